"""Alerts in the ward's inbox: raised (idempotently), escalated, acknowledged, resolved — each step audited (A1, A2)."""

import functools
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from wardflow import protocol
from wardflow.compiled import CompiledRows
from wardflow.errors import WorkflowConflict
from wardflow.policy import current_policy
from wardflow.staff.models import Role

from ..kinds import AuditAction, CheckKind, EmailReason
from ..models import Alert, DueCheck, subject_key
from ..selectors import acknowledge_refusal
from .emails import queue_emails, ward_staff
from .events import alert_snapshot, record_alert_event
from .scheduling import cancel_checks, schedule_check

STILL_OPEN = (Alert.State.OPEN, Alert.State.ESCALATED)


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
    subject_type, subject_id = subject_key(subject)
    if source_check is not None and (existing := Alert.objects.filter(source_check=source_check).first()):
        return existing
    still_open = Alert.objects.filter(
        kind=kind, patient=patient, subject_type=subject_type, subject_id=subject_id, state__in=STILL_OPEN
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
    record_alert_event(alert, AuditAction.RAISED, at=now, after=alert_snapshot(alert))
    delay = protocol.escalation_delay(protocol.Severity(severity), current_policy())
    if delay is not None:
        schedule_check(CheckKind.ESCALATE, due_at=now + delay, patient=patient, subject=alert)
    queue_emails(alert, ward_staff(alert.ward_id, target_role), EmailReason.RAISED, now)
    return alert


def escalate_alert(*, alert_id: int, now: datetime) -> None:
    """A1/A2: an alert still unacknowledged when its escalation falls due goes to the ward's neurologists."""
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.state != Alert.State.OPEN:
        return  # acknowledged or resolved in time: nothing to escalate
    alert.state = Alert.State.ESCALATED
    alert.escalated_at = now
    alert.save(update_fields=["state", "escalated_at"])
    record_alert_event(alert, AuditAction.ESCALATED, at=now, before=Alert.State.OPEN,
                       after={"state": alert.state, "to": Role.NEUROLOGIST}, rules=("A1", "A2"))  # fmt: skip
    queue_emails(alert, ward_staff(alert.ward_id, Role.NEUROLOGIST), EmailReason.ESCALATED, now)


@transaction.atomic
def acknowledge_alert(*, actor, alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update(of=("self",)).select_related("patient").get(pk=alert.pk)
    if alert.state not in STILL_OPEN:
        raise WorkflowConflict(f"This alert is already {alert.state}.", rule="A2")
    if refusal := acknowledge_refusal(actor, alert):
        raise refusal
    return _acknowledge(alert, actor, timezone.now())


@transaction.atomic
def acknowledge_alerts(*, actor, alerts: Iterable[Alert]) -> list[Alert]:
    """One problem's alerts acknowledged together (the inbox groups them), each audited on its own (A2). Those closed
    meanwhile are left as they are; one the actor may not acknowledge refuses them all."""
    locked = list(
        Alert.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(pk__in=[a.pk for a in alerts], state__in=STILL_OPEN)
        .order_by("raised_at", "id")
    )
    if not locked:
        raise WorkflowConflict("These alerts are already acknowledged or resolved.", rule="A2")
    for alert in locked:
        if refusal := acknowledge_refusal(actor, alert):
            raise refusal
    now = timezone.now()
    return [_acknowledge(alert, actor, now) for alert in locked]


def _acknowledge(alert: Alert, actor, now: datetime) -> Alert:
    before = alert.state
    alert.state = Alert.State.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = now
    alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at"])
    cancel_checks(subject=alert, kinds=[CheckKind.ESCALATE])
    record_alert_event(alert, AuditAction.ACKNOWLEDGED, at=now, actor=actor, before=before)
    return alert


@functools.cache
def _unresolved_alerts(by_subject: bool, by_patient: bool, kinds: int | None) -> CompiledRows:
    """The unresolved alerts about a subject, or a patient's, of some kinds, locked (their patient read along, not
    locked). Most acts resolve some (the dose given, the program in force, the refill done), mostly finding none:
    compiled once per shape (by subject or patient, how many kinds)."""
    placeholders = ("<subject type>", "<subject id>") if by_subject else ()
    placeholders += (-1,) if by_patient else ()
    placeholders += tuple(f"<kind {index}>" for index in range(kinds or 0))

    def build(*values):
        values = list(values)
        alerts = Alert.objects.unresolved().select_for_update(of=("self",))
        if by_subject:
            alerts = alerts.filter(subject_type=values.pop(0), subject_id=values.pop(0))
        if by_patient:
            alerts = alerts.filter(patient=values.pop(0))
        return alerts if kinds is None else alerts.filter(kind__in=values)

    return CompiledRows(Alert, build, *(() if by_patient else ("patient",)), placeholders=placeholders)


def resolve_alerts(*, subject=None, patient=None, kinds: Iterable[str] | None = None, actor=None,
                   at: datetime | None = None) -> int:  # fmt: skip
    """Close the alerts whose cause is gone (the overdue observation charted, the refill done): those about
    `subject`, or of `kinds` for `patient`."""
    if subject is None and (patient is None or kinds is None):
        raise ValueError("resolve_alerts needs a subject, or a patient and the kinds to resolve")
    if kinds is not None and not (kinds := list(kinds)):
        return 0
    now = at or timezone.now()
    read = _unresolved_alerts(subject is not None, patient is not None, None if kinds is None else len(kinds))
    values = [*subject_key(subject)] if subject is not None else []
    values += [patient.pk] if patient is not None else []
    alerts = read.all(*values, *(kinds or ()))
    resolved = 0
    for alert in alerts:
        if patient is not None:
            alert.patient = patient  # the one they were read for
        before = alert.state
        alert.state = Alert.State.RESOLVED
        alert.resolved_at = now
        alert.save(update_fields=["state", "resolved_at"])
        cancel_checks(subject=alert, kinds=[CheckKind.ESCALATE])
        record_alert_event(alert, AuditAction.RESOLVED, at=now, actor=actor, before=before)
        resolved += 1
    return resolved
