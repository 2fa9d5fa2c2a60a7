"""The dispatcher: claims due rows, asks the handler the owning feature registered for the row's kind, and closes
the row, each in its own savepoint. Handlers are registered from each feature's checks.py table at start-up."""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import DueCheck

log = logging.getLogger("alerts.services")

CheckHandler = Callable[[DueCheck, datetime], None]
_handlers: dict[str, CheckHandler] = {}

MAX_CHECK_ATTEMPTS = 5


def register_check_handlers(handlers: Mapping[str, CheckHandler]) -> None:
    """Register the functions that evaluate due checks, by kind. Each feature calls this once, from its
    AppConfig.ready(), with the table at the end of its checks.py."""
    for kind, func in handlers.items():
        if kind in _handlers and _handlers[kind] is not func:
            raise ValueError(f"A handler for due checks of kind {kind!r} is already registered")
        _handlers[kind] = func


@dataclass(frozen=True)
class DispatchReport:
    done: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 60))


def dispatch_due_checks(now: datetime | None = None, batch_size: int = 200) -> DispatchReport:
    """One dispatch cycle: claim due rows (FOR UPDATE SKIP LOCKED, so concurrent dispatchers never share one),
    evaluate each in its own savepoint, close the batch's evaluated rows in one update, and commit batch by batch."""
    now = now or timezone.now()
    done = failed = 0
    while True:
        with transaction.atomic():
            batch = list(
                DueCheck.objects.select_for_update(skip_locked=True)
                .filter(state=DueCheck.State.PENDING, due_at__lte=now)
                .order_by("due_at")[:batch_size]
            )
            if not batch:
                break
            evaluated = [check.pk for check in batch if _evaluate(check, now)]
            # Closed with the handlers' work, in the same commit: a statement per batch, not one per check.
            DueCheck.objects.filter(pk__in=evaluated).update(
                state=DueCheck.State.DONE, closed_at=now, attempts=F("attempts") + 1
            )
            done += len(evaluated)
            failed += len(batch) - len(evaluated)
    return DispatchReport(done=done, failed=failed)


def _evaluate(check: DueCheck, now: datetime) -> bool:
    """Whether the handler evaluated the check; a failure is rolled back to the check's savepoint and recorded on
    the row, which is retried later or given up after MAX_CHECK_ATTEMPTS."""
    try:
        with transaction.atomic():
            handler = _handlers.get(check.kind)
            if handler is None:
                raise LookupError(f"no handler registered for due checks of kind {check.kind!r}")
            handler(check, now)
        return True
    except Exception as exc:
        check.attempts += 1
        log.exception("due check %s (%s) failed on attempt %s", check.pk, check.kind, check.attempts)
        check.last_error = f"{exc.__class__.__name__}: {exc}"
        if check.attempts >= MAX_CHECK_ATTEMPTS:
            check.state = DueCheck.State.FAILED
            check.closed_at = now
        else:
            check.due_at = now + retry_delay(check.attempts)
        check.save(update_fields=["state", "closed_at", "due_at", "attempts", "last_error"])
        return False
