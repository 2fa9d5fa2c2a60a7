from datetime import UTC, datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html

from wardflow import protocol
from wardflow.clinical_time import ShownTime, shown_due, shown_event, ward_local
from wardflow.policy import current_policy

register = template.Library()


@register.filter
def ashworth(value) -> str:
    """S5: a Modified Ashworth value in its clinical notation (1+ for the stored 1.5; a mean with one decimal)."""
    return "" if value in (None, "") else protocol.ashworth_notation(value)


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


def _time_html(shown: ShownTime) -> str:
    overdue = " overdue" if shown.overdue else ""
    return format_html('<time datetime="{}" class="clock{}">{}</time> <span class="hint{}">{}</span>',
                       shown.iso, overdue, shown.text, overdue, shown.hint)  # fmt: skip


@register.filter
def when(value: datetime | None) -> str:
    """A displayed event time: "14:40" today, "Sun 21 Mar 14:40" another day, with "3 days ago"."""
    return "" if value in (None, "") else _time_html(shown_event(value, timezone.now()))


@register.filter
def due(value: datetime | None) -> str:
    """A displayed due time, with "in 4 days", "due now" or "4 days overdue"."""
    return "" if value in (None, "") else _time_html(shown_due(value, timezone.now()))


def _duration(delay) -> str:
    hours, rest = divmod(round(delay.total_seconds() / 60), 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{rest} min"] * bool(rest or not hours)
    return " ".join(parts)


@register.filter
def late_entry(observation) -> str:
    """A1: "late entry, charted 2 h 10 min after" for an observation charted after the overdue grace, else ""."""
    delay = protocol.late_entry_delay(observation.observed_at, observation.entered_at, current_policy())
    return f"late entry, charted {_duration(delay)} after" if delay else ""
