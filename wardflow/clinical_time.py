"""Clinical times and dates (protocol.md, top and "Dates, times and input"): times are when things happened, late
entry is allowed, the future is not; every date-based rule uses the ward's local date, in the API (which speaks UTC)
and the web alike."""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from wardflow.errors import InvalidInput
from wardflow.policy import current_policy
from wardflow.protocol import FUTURE_TOLERANCE


def ward_timezone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def ward_today(now: datetime | None = None) -> date:
    """Today on the ward (TIME_ZONE), whatever time zone the request is being answered in: ages, age bands, P2, S2,
    T3, T8 and P5 are decided on this date."""
    return timezone.localtime(now or timezone.now(), ward_timezone()).date()


def ward_local(value: datetime) -> datetime:
    """The ward's wall-clock time of an instant, for messages: the API answers in UTC, the ward reads local time."""
    return timezone.localtime(value, ward_timezone())


def shown(value: datetime) -> str:
    return ward_local(value).strftime("%Y-%m-%d %H:%M")


# A time this close to now is "now": the ward's clocks and the server's agree to the minute, not to the second.
JUST_NOW = timedelta(minutes=1)


@dataclass(frozen=True)
class ShownTime:
    """How the ward reads one moment: the wall-clock text, its relative hint, and the instant for machines."""

    iso: str
    text: str
    hint: str
    overdue: bool = False


def _wall_clock(value: datetime) -> tuple[datetime, str]:
    """The ward's wall clock of an instant; a stored time the ward's zone cannot represent (e.g. year 1) is shown in
    UTC, marked so (Dates, times and input: a page never fails on a stored value)."""
    try:
        return ward_local(value), ""
    except OverflowError:
        return value.astimezone(UTC), " UTC"


def clock_text(value: datetime, now: datetime, *, always_date: bool = False) -> str:
    """Today's times as "14:40"; any other ward day with its date, "Sun 21 Mar 14:40", and its year when that is not
    this year. Days are the ward's local days (a time just after midnight is tomorrow's, whatever UTC says)."""
    local, zone = _wall_clock(value)
    today = ward_local(now).date()
    if local.date() == today and not always_date:
        return f"{local:%H:%M}"
    year = f" {local.year:04d}" if local.year != today.year else ""
    return f"{local:%a} {local.day} {local:%b}{year} {local:%H:%M}{zone}"


def _span(delta: timedelta) -> str:
    """A length of time as a nurse says it: minutes within the hour, hours within the day, then whole days."""
    minutes = int(abs(delta) // timedelta(minutes=1))
    if minutes < 60:
        return f"{minutes} min"
    if (hours := minutes // 60) < 24:
        return f"{hours} h"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"


def shown_event(value: datetime, now: datetime) -> ShownTime:
    """When something happened (or will): "just now", "3 days ago", "in 2 h"."""
    delta = value - now
    if abs(delta) < JUST_NOW:
        hint = "just now"
    else:
        hint = f"in {_span(delta)}" if delta > timedelta(0) else f"{_span(delta)} ago"
    return ShownTime(iso=value.isoformat(), text=clock_text(value, now), hint=hint)


def shown_due(value: datetime, now: datetime) -> ShownTime:
    """When something falls due: "in 4 days", "due now", "4 days overdue"."""
    delta = value - now
    if abs(delta) < JUST_NOW:
        hint = "due now"
    else:
        hint = f"in {_span(delta)}" if delta > timedelta(0) else f"{_span(delta)} overdue"
    return ShownTime(iso=value.isoformat(), text=clock_text(value, now), hint=hint, overdue=value <= now)


def future_problem(value: datetime, now: datetime | None = None) -> str | None:
    now = now or timezone.now()
    if value <= now + FUTURE_TOLERANCE:
        return None
    return f"{shown(value)} is in the future; chart the time it actually happened (late entry is fine)."


def ensure_not_future(field: str, value: datetime, now: datetime | None = None) -> None:
    if problem := future_problem(value, now):
        raise InvalidInput({field: [problem]})


def clinical_time_problem(value: datetime, patient, now: datetime | None = None) -> str | None:
    """A clinical time is plausible: not more than 5 minutes ahead, and not before the patient's registration minus
    the policy's days (a late entry of care given before registration is fine; a year-1 date is a typing slip)."""
    if problem := future_problem(value, now):
        return problem
    days = current_policy().clinical_time_before_registration_days
    earliest = patient.created_at - timedelta(days=days)
    if value < earliest:
        return (
            f"{shown(value)} is more than {days} days before the patient was registered "
            f"({shown(patient.created_at)}); check the date."
        )
    return None


def ensure_clinical_time(field: str, value: datetime, patient, now: datetime | None = None) -> None:
    if problem := clinical_time_problem(value, patient, now):
        raise InvalidInput({field: [problem]})
