"""An API path is resolved among the API's own patterns, without trying the pages' first; the pages still resolve."""

from django.urls import URLResolver, get_resolver

from screening.api import PatientObservationView
from web import urls as web_urls


def _pages_tried(monkeypatch) -> list[str]:
    tried = []
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.urlconf_name is web_urls:
            own = pattern.resolve
            monkeypatch.setattr(pattern, "resolve", lambda path, own=own: tried.append(path) or own(path))
    assert tried == [], "the pages' patterns are in the URL configuration"
    return tried


def test_a_charted_observation_is_routed_without_trying_the_pages_patterns(monkeypatch):
    tried = _pages_tried(monkeypatch)
    match = get_resolver().resolve("/api/v1/patients/7/observations/")
    assert match.func.view_class is PatientObservationView and match.kwargs == {"pk": 7}
    assert tried == []


def test_a_page_still_resolves_after_the_api(monkeypatch):
    tried = _pages_tried(monkeypatch)
    assert get_resolver().resolve("/ward/").url_name
    assert tried == ["ward/"]  # the path below the root
