"""Due checks: durable rows in PostgreSQL, created and closed inside the transaction of the change that makes them
due or moot (never a Celery ETA task)."""

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.utils import timezone

from wardflow.compiled import CompiledInsert, CompiledUpdate, Write, time_placeholders

from ..models import DueCheck, subject_key


def schedule_check(kind: str, *, due_at: datetime, patient=None, subject=None, payload: dict | None = None) -> DueCheck:
    """Create a durable due-check row; call it inside the transaction of the change that makes it due."""
    return schedule([due_check(kind, due_at=due_at, patient=patient, subject=subject, payload=payload)])[0]


def schedule_checks(kind: str, *, dues: Iterable[tuple[datetime, dict]], patient=None, subject=None,
                    along: Sequence[Write] = ()) -> list[DueCheck]:  # fmt: skip
    """Several due checks of one kind and subject, each `(due_at, payload)`, in one insert (a schedule of
    observations or reminders); call it inside the transaction of the change that makes them due. `along`: as
    `schedule` takes it."""
    return schedule(
        (due_check(kind, due_at=due_at, patient=patient, subject=subject, payload=payload) for due_at, payload in dues),
        along=along,
    )


def due_check(kind: str, *, due_at: datetime, patient=None, subject=None, payload: dict | None = None) -> DueCheck:
    """A due check not saved yet, for `schedule` to insert along with others."""
    subject_type, subject_id = subject_key(subject)
    return DueCheck(
        kind=kind, due_at=due_at, patient=patient, subject_type=subject_type, subject_id=subject_id,
        payload=payload or {},
    )  # fmt: skip


def schedule(checks: Iterable[DueCheck], *, along: Sequence[Write] = ()) -> list[DueCheck]:
    """Due checks of any kinds (`due_check`) in one insert; call it inside the transaction of the change that makes
    them due. `along`: the act's updates sent in the same statement (`cancelling` the checks the new ones replace,
    the record's changed fields): one round trip instead of one each."""
    return _INSERT.save(list(checks), along)


def cancel_checks(*, subject=None, kinds: Iterable[str] | None = None, ids: Iterable[int] | None = None) -> int:
    """Close pending checks resolved early or being rescheduled: a subject's (of `kinds`, or all), or the given ones."""
    now = timezone.now()
    if ids is not None:
        pending = DueCheck.objects.filter(state=DueCheck.State.PENDING, pk__in=list(ids))
        return pending.update(state=DueCheck.State.CANCELLED, closed_at=now)
    kinds = None if kinds is None else list(kinds)
    if kinds == []:
        return 0
    return cancelling(subject=subject, kinds=kinds, at=now).send()


def cancelling(*, subject, kinds: list[str] | None, at: datetime | None = None) -> Write:
    """`cancel_checks(subject=..., kinds=...)` not sent yet: to send along with the checks scheduled instead
    (`schedule(..., along=...)`). The pending checks it closes are those the statement finds as it starts: never
    the ones it inserts."""
    return _subject_cancel(None if kinds is None else len(kinds)).write(
        *subject_key(subject), *(kinds or ()), at or timezone.now()
    )


@functools.cache
def _subject_cancel(kinds: int | None) -> CompiledUpdate:
    """A subject's pending checks (of some kinds, or all) cancelled: most acts do it (the dose given, the program in
    force, the refill done), compiled once per number of kinds."""
    placeholders = ("<subject type>", "<subject id>", *(f"<kind {index}>" for index in range(kinds or 0)), _CLOSED_AT)

    def build(subject_type, subject_id, *rest):
        *named, closed_at = rest
        pending = DueCheck.objects.filter(
            state=DueCheck.State.PENDING, subject_type=subject_type, subject_id=subject_id
        )
        if kinds is not None:
            pending = pending.filter(kind__in=named)
        return pending, {"state": DueCheck.State.CANCELLED, "closed_at": closed_at}

    return CompiledUpdate(build, placeholders)


(_CLOSED_AT,) = time_placeholders(1)
# Every act that makes checks due sends it (a test dose's observation slots, a refill's reminders).
_INSERT = CompiledInsert(DueCheck)
