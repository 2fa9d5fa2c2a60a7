from datetime import UTC, datetime

from django import template
from django.template.defaultfilters import date as date_filter

from wardflow.clinical_time import ward_local

register = template.Library()


@register.filter
def spaced(value: str) -> str:
    """observation_overdue -> observation overdue"""
    return str(value).replace("_", " ")


@register.filter
def ward_time(value: datetime | str | None, fmt: str | None = None) -> str:
    """A stored time in the ward's local time, formatted like Django's `date` filter. A page never fails on a stored
    value (Dates, times and input): a time the ward's zone cannot represent (e.g. year 1) is shown in UTC, marked so."""
    if value in (None, ""):
        return ""
    try:
        return date_filter(ward_local(value), fmt)
    except OverflowError:
        return f"{date_filter(value.astimezone(UTC), fmt)} UTC"
