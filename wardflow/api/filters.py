"""Query filters shared by the list endpoints (django-filter): `?state=a,b` and `?ward=CODE`."""

import django_filters


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of values, e.g. `?state=open,escalated`."""


def state_filter() -> CharInFilter:
    return CharInFilter(field_name="state", help_text="one state or several, comma-separated")


def ward_filter(path: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=path, help_text="ward code")
