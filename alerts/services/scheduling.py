"""Due checks: durable rows in PostgreSQL, created and closed inside the transaction of the change that makes them
due or moot (never a Celery ETA task)."""

import functools
from collections.abc import Iterable
from datetime import UTC, datetime

from django.utils import timezone

from wardflow.compiled import CompiledUpdate

from ..models import DueCheck, subject_key


def schedule_check(kind: str, *, due_at: datetime, patient=None, subject=None, payload: dict | None = None) -> DueCheck:
    """Create a durable due-check row; call it inside the transaction of the change that makes it due."""
    check = due_check(kind, due_at=due_at, patient=patient, subject=subject, payload=payload)
    check.save(force_insert=True)
    return check


def schedule_checks(kind: str, *, dues: Iterable[tuple[datetime, dict]], patient=None, subject=None) -> list[DueCheck]:
    """Several due checks of one kind and subject, each `(due_at, payload)`, in one insert (a schedule of
    observations or reminders); call it inside the transaction of the change that makes them due."""
    return schedule(
        due_check(kind, due_at=due_at, patient=patient, subject=subject, payload=payload) for due_at, payload in dues
    )


def due_check(kind: str, *, due_at: datetime, patient=None, subject=None, payload: dict | None = None) -> DueCheck:
    """A due check not saved yet, for `schedule` to insert along with others."""
    subject_type, subject_id = subject_key(subject)
    return DueCheck(
        kind=kind, due_at=due_at, patient=patient, subject_type=subject_type, subject_id=subject_id,
        payload=payload or {},
    )  # fmt: skip


def schedule(checks: Iterable[DueCheck]) -> list[DueCheck]:
    """Due checks of any kinds (`due_check`) in one insert; call it inside the transaction of the change that makes
    them due."""
    return DueCheck.objects.bulk_create(checks)


def cancel_checks(*, subject=None, kinds: Iterable[str] | None = None, ids: Iterable[int] | None = None) -> int:
    """Close pending checks resolved early or being rescheduled: a subject's (of `kinds`), or the given ones."""
    if ids is None and kinds is not None:
        kinds = list(kinds)
        return _subject_cancel(len(kinds)).run(*subject_key(subject), *kinds, timezone.now()) if kinds else 0
    pending = DueCheck.objects.filter(state=DueCheck.State.PENDING)
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    else:
        subject_type, subject_id = subject_key(subject)
        pending = pending.filter(subject_type=subject_type, subject_id=subject_id)
    if kinds is not None:
        pending = pending.filter(kind__in=list(kinds))
    return pending.update(state=DueCheck.State.CANCELLED, closed_at=timezone.now())


@functools.cache
def _subject_cancel(kinds: int) -> CompiledUpdate:
    """A subject's pending checks of some kinds cancelled: most acts do it (the dose given, the program in force, the
    refill done), compiled once per number of kinds."""
    placeholders = ("<subject type>", "<subject id>", *(f"<kind {index}>" for index in range(kinds)), _CLOSED_AT)

    def build(subject_type, subject_id, *rest):
        *kinds, closed_at = rest
        pending = DueCheck.objects.filter(
            state=DueCheck.State.PENDING, subject_type=subject_type, subject_id=subject_id, kind__in=kinds
        )
        return pending, {"state": DueCheck.State.CANCELLED, "closed_at": closed_at}

    return CompiledUpdate(build, placeholders)


_CLOSED_AT = datetime(1, 1, 1, tzinfo=UTC)  # a placeholder no check is closed at
