"""Query filters shared by the list endpoints (django-filter): `?state=a,b` and `?ward=CODE`."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from .fields import offset_problem


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of values, e.g. `?state=open,escalated`."""


def state_filter() -> CharInFilter:
    return CharInFilter(field_name="state", help_text="one state or several, comma-separated")


def ward_filter(path: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=path, help_text="ward code")


class AwareIsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 time with a real UTC offset (dates, times and input): a naive time or an impossible offset is a
    400 naming the filter, never a database error."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and (problem := offset_problem(moment)):
            raise ValidationError(problem, code="offset")
        return moment

    def strptime(self, value, format):
        return django_filters.fields.IsoDateTimeField().strptime(value, format)


class TimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareIsoDateTimeField
