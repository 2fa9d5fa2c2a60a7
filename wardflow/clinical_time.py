"""Clinical times and dates (protocol.md, top and "Dates, times and input"): times are when things happened, late
entry is allowed, the future is not; every date-based rule uses the ward's local date, in the API (which speaks UTC)
and the web alike."""

import zoneinfo
from datetime import date, datetime, timedelta

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
