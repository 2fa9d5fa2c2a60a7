"""The due-check and alert engine. Features decide *what* is due and *when* (their own rules); this module keeps
the rows, claims them when due, raises, escalates, delivers and closes alerts, and audits each alert's life (A2)."""

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.errors import RoleNotAllowed, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.staff.models import Role, User

from .models import Alert, AlertEmail, DueCheck

log = logging.getLogger(__name__)

CheckHandler = Callable[[DueCheck, datetime], None]
_handlers: dict[str, CheckHandler] = {}

ESCALATE = "alert.escalate"
SEND_EMAILS_TASK = "alerts.tasks.send_alert_emails"


def register_check_handlers(handlers: Mapping[str, CheckHandler]) -> None:
    """Register the functions that evaluate due checks, by kind. Each feature calls this once, from its
    AppConfig.ready(), with the table in its checks.py."""
    for kind, func in handlers.items():
        if kind in _handlers and _handlers[kind] is not func:
            raise ValueError(f"A handler for due checks of kind {kind!r} is already registered")
        _handlers[kind] = func


def check_handler(kind: str):
    """Decorator form of register_check_handlers (kept until every feature registers from its table)."""

    def register(func: CheckHandler) -> CheckHandler:
        register_check_handlers({kind: func})
        return func

    return register


def _subject_key(subject) -> tuple[str, str]:
    return (subject._meta.label_lower, str(subject.pk)) if subject is not None else ("", "")


def schedule_check(kind: str, *, due_at: datetime, patient=None, subject=None, payload: dict | None = None) -> DueCheck:
    """Create a durable due-check row; call it inside the transaction of the change that makes it due."""
    subject_type, subject_id = _subject_key(subject)
    return DueCheck.objects.create(
        kind=kind,
        due_at=due_at,
        patient=patient,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload or {},
    )


def cancel_checks(*, subject=None, kinds: Iterable[str] | None = None, ids: Iterable[int] | None = None) -> int:
    """Close pending checks resolved early or being rescheduled: a subject's (of `kinds`), or the given ones."""
    pending = DueCheck.objects.filter(state=DueCheck.State.PENDING)
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    else:
        subject_type, subject_id = _subject_key(subject)
        pending = pending.filter(subject_type=subject_type, subject_id=subject_id)
    if kinds is not None:
        pending = pending.filter(kind__in=list(kinds))
    return pending.update(state=DueCheck.State.CANCELLED, closed_at=timezone.now())


# --- dispatcher -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchReport:
    done: int = 0
    failed: int = 0


MAX_CHECK_ATTEMPTS = 5


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 60))


def dispatch_due_checks(now: datetime | None = None, batch_size: int = 200) -> DispatchReport:
    """One dispatch cycle: claim due rows (FOR UPDATE SKIP LOCKED, so concurrent dispatchers never share one),
    evaluate each in its own savepoint, close it, and commit batch by batch."""
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
            for check in batch:
                if _evaluate(check, now):
                    done += 1
                else:
                    failed += 1
    return DispatchReport(done=done, failed=failed)


def _evaluate(check: DueCheck, now: datetime) -> bool:
    check.attempts += 1
    try:
        with transaction.atomic():
            handler = _handlers.get(check.kind)
            if handler is None:
                raise LookupError(f"no handler registered for due checks of kind {check.kind!r}")
            handler(check, now)
            check.state = DueCheck.State.DONE
            check.closed_at = now
            check.save(update_fields=["state", "closed_at", "attempts"])
        return True
    except Exception as exc:
        log.exception("due check %s (%s) failed on attempt %s", check.pk, check.kind, check.attempts)
        check.last_error = f"{exc.__class__.__name__}: {exc}"
        if check.attempts >= MAX_CHECK_ATTEMPTS:
            check.state = DueCheck.State.FAILED
            check.closed_at = now
        else:
            check.due_at = now + _retry_delay(check.attempts)
        check.save(update_fields=["state", "closed_at", "due_at", "attempts", "last_error"])
        return False


# --- alerts -----------------------------------------------------------------------------------------------------


def _alert_snapshot(alert: Alert) -> dict:
    return {
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "target_role": alert.target_role,
        "message": alert.message,
    }


def _record_alert_event(alert: Alert, action: str, *, at: datetime, actor=None, before: str | None = None,
                        after: dict | None = None, rules=("A2",)) -> None:  # fmt: skip
    """A2: every step of an alert's life is audited."""
    record_event(
        actor=actor,
        action=action,
        at=at,
        patient=alert.patient,
        subject=alert,
        before=None if before is None else {"state": before},
        after=after or {"state": alert.state},
        rules=[alert.rule, *rules],
    )


def _ward_staff(ward_id: int, role: Role):
    return User.objects.filter(wards=ward_id, groups__name=role, is_active=True).exclude(email="")


def _queue_emails(alert: Alert, recipients, reason: str, now: datetime) -> None:
    if not settings.ALERT_EMAIL_ENABLED:
        return
    AlertEmail.objects.bulk_create(
        [AlertEmail(alert=alert, recipient=user, reason=reason, next_attempt_at=now) for user in recipients],
        ignore_conflicts=True,
    )
    # Sent after commit by a worker; if the broker is down, the beat sweep sends the rows later (they are the truth).
    transaction.on_commit(_send_emails_soon)


def _send_emails_soon() -> None:
    try:
        current_app.send_task(SEND_EMAILS_TASK)
    except Exception:  # the broker is away: the periodic sweep will find the pending rows
        log.warning("could not queue the alert e-mail task; the next sweep will send them", exc_info=True)


def raise_alert(
    *,
    kind: str,
    severity: protocol.Severity,
    patient,
    rule: str,
    message: str,
    target_role: Role,
    subject=None,
    due_at: datetime | None = None,
    source_check: DueCheck | None = None,
    at: datetime | None = None,
) -> Alert:
    """Raise an alert into the ward's inbox (and e-mail), audited, with its escalation scheduled (A1, A2).
    Idempotent: a check that runs again, or an alert of the same kind still open on the same subject, returns
    the existing alert instead of raising a second one."""
    now = at or timezone.now()
    subject_type, subject_id = _subject_key(subject)
    if source_check is not None and (existing := Alert.objects.filter(source_check=source_check).first()):
        return existing
    still_open = Alert.objects.filter(
        kind=kind,
        patient=patient,
        subject_type=subject_type,
        subject_id=subject_id,
        state__in=[Alert.State.OPEN, Alert.State.ESCALATED],
    ).first()
    if still_open is not None:
        return still_open
    alert = Alert.objects.create(
        kind=kind,
        severity=severity,
        patient=patient,
        ward_id=patient.ward_id,
        rule=rule,
        message=message,
        raised_at=now,
        due_at=due_at,
        target_role=target_role,
        subject_type=subject_type,
        subject_id=subject_id,
        source_check=source_check,
    )
    _record_alert_event(alert, "alert.raised", at=now, after=_alert_snapshot(alert))
    delay = protocol.escalation_delay(protocol.Severity(severity), current_policy())
    if delay is not None:
        schedule_check(ESCALATE, due_at=now + delay, patient=patient, subject=alert)
    _queue_emails(alert, _ward_staff(alert.ward_id, target_role), "raised", now)
    return alert


@check_handler(ESCALATE)
def _escalate_if_unacknowledged(check: DueCheck, now: datetime) -> None:
    alert = Alert.objects.select_for_update().get(pk=check.subject_id)
    if alert.state != Alert.State.OPEN:
        return  # acknowledged or resolved in time: nothing to escalate
    alert.state = Alert.State.ESCALATED
    alert.escalated_at = now
    alert.save(update_fields=["state", "escalated_at"])
    _record_alert_event(alert, "alert.escalated", at=now, before=Alert.State.OPEN,
                        after={"state": alert.state, "to": Role.NEUROLOGIST}, rules=("A1", "A2"))  # fmt: skip
    _queue_emails(alert, _ward_staff(alert.ward_id, Role.NEUROLOGIST), "escalated", now)


@transaction.atomic
def acknowledge_alert(*, actor, alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update().select_related("patient").get(pk=alert.pk)
    if alert.state not in (Alert.State.OPEN, Alert.State.ESCALATED):
        raise WorkflowConflict(f"This alert is already {alert.state}.", rule="A2")
    if not protocol.may_acknowledge(protocol.Severity(alert.severity), actor.role):
        raise RoleNotAllowed("Urgent alerts must be acknowledged by a neurologist.", rule="A2")
    before = alert.state
    now = timezone.now()
    alert.state = Alert.State.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = now
    alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at"])
    cancel_checks(subject=alert, kinds=[ESCALATE])
    _record_alert_event(alert, "alert.acknowledged", at=now, actor=actor, before=before)
    return alert


def resolve_alerts(*, subject=None, patient=None, kinds: Iterable[str] | None = None, actor=None,
                   at: datetime | None = None) -> int:  # fmt: skip
    """Close the alerts whose cause is gone (the overdue observation charted, the refill done): those about
    `subject`, or of `kinds` for `patient`."""
    if subject is None and (patient is None or kinds is None):
        raise ValueError("resolve_alerts needs a subject, or a patient and the kinds to resolve")
    now = at or timezone.now()
    alerts = Alert.objects.select_for_update().select_related("patient").exclude(state=Alert.State.RESOLVED)
    if subject is not None:
        subject_type, subject_id = _subject_key(subject)
        alerts = alerts.filter(subject_type=subject_type, subject_id=subject_id)
    if patient is not None:
        alerts = alerts.filter(patient=patient)
    if kinds is not None:
        alerts = alerts.filter(kind__in=list(kinds))
    resolved = 0
    for alert in alerts:
        before = alert.state
        alert.state = Alert.State.RESOLVED
        alert.resolved_at = now
        alert.save(update_fields=["state", "resolved_at"])
        cancel_checks(subject=alert, kinds=[ESCALATE])
        _record_alert_event(alert, "alert.resolved", at=now, actor=actor, before=before)
        resolved += 1
    return resolved


# --- e-mail delivery --------------------------------------------------------------------------------------------

MAX_EMAIL_ATTEMPTS = 10


def send_pending_emails(now: datetime | None = None, batch_size: int = 50) -> int:
    """Send the alert e-mails that are due; a failing mail server leaves them pending for a later retry."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        emails = list(
            AlertEmail.objects.select_for_update(skip_locked=True)
            .select_related("alert", "alert__patient", "alert__ward", "recipient")
            .filter(state=AlertEmail.State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:batch_size]
        )
        for email in emails:
            sent += _send_one(email, now)
    return sent


def _send_one(email: AlertEmail, now: datetime) -> int:
    alert = email.alert
    email.attempts += 1
    try:
        send_mail(
            subject=f"[WardFlow {alert.severity}] {alert.ward.code}: {alert.kind} ({alert.rule})",
            message=f"{alert.message}\n\nPatient MRN {alert.patient.mrn}, ward {alert.ward.code}.",
            from_email=None,
            recipient_list=[email.recipient.email],
        )
    except Exception as exc:
        log.warning("alert e-mail %s failed (attempt %s): %s", email.pk, email.attempts, exc)
        email.last_error = f"{exc.__class__.__name__}: {exc}"
        if email.attempts >= MAX_EMAIL_ATTEMPTS:
            email.state = AlertEmail.State.FAILED
        email.next_attempt_at = now + _retry_delay(email.attempts)
        email.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
        return 0
    email.state = AlertEmail.State.SENT
    email.sent_at = now
    email.save(update_fields=["attempts", "state", "sent_at"])
    _record_alert_event(alert, "alert.delivered", at=now,
                        after={"channel": "email", "to": email.recipient.username, "reason": email.reason})  # fmt: skip
    return 1
