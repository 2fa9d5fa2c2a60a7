"""Clinical times are when things happened; late entry is allowed, the future is not (protocol.md, top)."""

from datetime import datetime

from django.utils import timezone

from wardflow.errors import InvalidInput
from wardflow.protocol import FUTURE_TOLERANCE


def future_problem(value: datetime, now: datetime | None = None) -> str | None:
    now = now or timezone.now()
    if value <= now + FUTURE_TOLERANCE:
        return None
    shown = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return f"{shown} is in the future; chart the time it actually happened (late entry is fine)."


def ensure_not_future(field: str, value: datetime, now: datetime | None = None) -> None:
    if problem := future_problem(value, now):
        raise InvalidInput({field: [problem]})
