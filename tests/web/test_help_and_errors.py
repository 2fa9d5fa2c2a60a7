"""The rules help page (every rule id of docs/protocol.md in plain words, one anchor each), rule ids in refusals
linked to it, and the styled error pages with a way back to the ward."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.urls import include, path

from screening import services as screening
from tests.web.support import logged_in
from web.rule_book import rule_ids
from web.templatetags.rules import rule_links

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
pytestmark = pytest.mark.django_db


def _fail(request):
    raise RuntimeError("a programming error")


def _refuse(request):
    raise PermissionDenied("Your role may not do this.")


# The site's own routes, and one view that fails: handler500 renders templates/500.html.
urlpatterns = [path("broken/", _fail), path("", include("config.urls"))]


def test_the_help_page_explains_every_rule_of_the_protocol_tables_at_its_own_anchor(nurse):
    table_ids = re.findall(r"^\| ([A-Z]\d+) \|", PROTOCOL.read_text(encoding="utf-8"), re.MULTILINE)
    page = logged_in(nurse).get("/help/rules/").content.decode()
    assert sorted(re.findall(r'<dt id="rule-([A-Z]\d+)"', page)) == sorted(table_ids)
    assert rule_ids() == frozenset(table_ids)
    s3 = page.split('id="rule-S3"', 1)[1].split("</dd>", 1)[0]
    assert "no earlier than 24 h after the patient&#x27;s previous intrathecal test dose" in s3
    assert "<strong>in any trial</strong>" in s3  # the protocol's emphasis kept, not its markdown


@pytest.mark.parametrize("role_fixture", ["nurse", "neurologist", "administrator"])
def test_every_role_finds_the_help_page_in_the_navigation(request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    landing = logged_in(user).get("/", follow=True).content.decode()
    nav = landing.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/help/rules/">Help</a>' in nav


def test_the_help_page_needs_a_login(client):
    assert client.get("/help/rules/").status_code == 302


def test_rule_links_escape_the_text_and_link_only_the_protocols_rule_ids():
    html = rule_links("<b>S3</b> & T4, not A10, DEMO-S3 or N3")
    assert html == (
        '&lt;b&gt;<a class="rule-link" href="/help/rules/#rule-S3">S3</a>&lt;/b&gt; &amp; '
        '<a class="rule-link" href="/help/rules/#rule-T4">T4</a>, not A10, DEMO-S3 or N3'
    )


def test_a_refusal_banner_keeps_its_words_and_links_its_rule(clock, make_patient, ward, neurologist):
    patient = make_patient(ward, "HELP-1")
    screening.open_trial(actor=neurologist, patient=patient)
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/screening/").content.decode()
    assert (
        "Not possible now: This patient already has an open screening trial. (rule "
        '<a class="rule-link" href="/help/rules/#rule-S1">S1</a>)'
    ) in page


def test_a_flash_message_links_its_rule(clock, make_patient, ward, neurologist):
    patient = make_patient(ward, "HELP-2")
    response = logged_in(neurologist).post(f"/patients/{patient.pk}/screening/", {"first_dose_mcg": "50"}, follow=True)
    page = response.content.decode()
    assert 'test dose 1 may be given (<a class="rule-link" href="/help/rules/#rule-S1">S1</a>).' in page


def test_a_nurse_on_the_audit_page_gets_the_styled_403_with_a_way_back(nurse):
    response = logged_in(nurse).get("/audit/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You may not open this page" in page and "Your role may not do this." in page
    assert '<a class="button primary" href="/">Back to the ward</a>' in page
    assert 'href="/static/css/wardflow.css"' in page


def test_an_unknown_patient_gets_the_styled_404_with_a_way_back(nurse):
    response = logged_in(nurse).get("/patients/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and '<a class="button primary" href="/">Back to the ward</a>' in page
    assert '<nav aria-label="Main">' in page  # the ward's own header, logged in


@pytest.mark.urls(__name__)
def test_a_failing_view_gets_the_styled_500_without_details(settings, client):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and '<a class="button primary" href="/">Back to the ward</a>' in page
    assert "a programming error" not in page and "Traceback" not in page


def test_the_500_page_renders_without_a_request_or_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = loader.get_template("500.html").render()
    assert "Something went wrong" in page
