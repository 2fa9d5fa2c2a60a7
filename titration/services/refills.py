"""Refills (R1, R2, R5) and the refill schedule every change of fill, program or withdrawal risk recomputes
(R2-R4)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import Severity
from wardflow.staff.models import Role

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import Pump, Refill
from ..selectors import estimated_volume, refill_refusal
from .pumps import fill_problem, locked_pump

REFILL_ALERT_KINDS = (AlertKind.REFILL_DUE, AlertKind.REFILL_OVERDUE)


def _schedule_reminders(pump: Pump, set_at: datetime, earlier_levels: tuple[int, ...] = ()) -> None:
    """R3/R4: the reminders of the pump's refill due date, from `set_at` on (the levels already past are not raised
    after the fact, but the nearest)."""
    alerts.cancel_checks(subject=pump, kinds=[CheckKind.REFILL_REMINDER])
    levels = protocol.refill_reminder_days(pump.patient.high_withdrawal_risk, current_policy())
    for reminder in protocol.refill_reminders(pump.refill_due_at, set_at, levels, earlier_levels):
        alerts.schedule_check(
            CheckKind.REFILL_REMINDER,
            due_at=reminder.at,
            patient=pump.patient,
            subject=pump,
            payload={"days_before": reminder.days_before},
        )


def reschedule_refill(pump: Pump, moment: datetime, actor=None) -> None:
    """R2-R4: recompute alarm and refill due from `moment` at the program now in force. R3: the reminders of the
    old due date are closed (pending checks cancelled, open alerts resolved), so that a pump never has a stale or a
    second open refill reminder; the new date's are scheduled."""
    # Cancelled before their alerts are resolved: a check being raised meanwhile is waited for, then resolved.
    alerts.cancel_checks(subject=pump, kinds=[CheckKind.REFILL_REMINDER, CheckKind.REFILL_OVERDUE])
    # T13: one pump in place per patient, so the patient's refill alerts are this pump's.
    alerts.resolve_alerts(patient=pump.patient, kinds=REFILL_ALERT_KINDS, actor=actor)
    active = pump.active_change
    if active is None or active.new_daily_dose_mcg == 0:
        pump.alarm_at = pump.refill_due_at = None
        pump.save(update_fields=["alarm_at", "refill_due_at"])
        return
    volume = estimated_volume(pump, moment)
    pump.alarm_at = protocol.alarm_time(
        moment, volume, pump.alarm_ml, pump.concentration_mcg_per_ml, active.new_daily_dose_mcg
    )
    pump.refill_due_at = protocol.refill_due(pump.alarm_at, current_policy())
    pump.save(update_fields=["alarm_at", "refill_due_at"])
    # The levels already past are judged when the date is set (a late entry's `moment` may be long gone).
    _schedule_reminders(pump, timezone.now())
    alerts.schedule_check(CheckKind.REFILL_OVERDUE, due_at=pump.refill_due_at, patient=pump.patient, subject=pump)


@transaction.atomic
def reschedule_refill_reminders(*, patient, high_risk_before: bool) -> None:
    """R4: a withdrawal-risk factor (P4) charted or cleared after programming moves the reminders of the pump in
    place at once: the new risk's levels from now on; a level already past is raised now only when it is the
    nearest and the earlier levels did not hold it (it was raised in its time). The due date does not change."""
    # A pump explanted meanwhile is not found: the lock re-reads the row.
    pump = (
        Pump.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(patient=patient, explanted_at__isnull=True, refill_due_at__isnull=False)
        .first()
    )
    if pump is None:
        return
    earlier = protocol.refill_reminder_days(high_risk_before, current_policy())
    _schedule_reminders(pump, timezone.now(), earlier)


@transaction.atomic
def record_refill(
    *,
    actor,
    pump: Pump,
    refilled_at: datetime,
    volume_removed_ml: Decimal,
    volume_added_ml: Decimal,
    concentration_mcg_per_ml: Decimal,
    lot: str,
) -> Refill:
    """R5: record the refill of a pump in place (T13); the residual found is checked against the estimate
    (advisory beyond 2 mL); the reservoir estimate, alarm and refill due restart from this fill (R2) and the
    reminders of the old due date give way to the new one's (R3/R4)."""
    if refusal := refill_refusal(actor):  # the role before any record is read; the pump's state under the lock
        raise refusal
    pump = locked_pump(pump)
    if refusal := refill_refusal(actor, pump):
        raise refusal
    ensure_clinical_time("refilled_at", refilled_at, pump.patient)
    if refilled_at < pump.filled_at:
        raise InvalidInput({"refilled_at": ["A refill cannot precede the previous fill."]})
    errors = {}
    if volume_removed_ml > pump.reservoir_ml:
        errors["volume_removed_ml"] = [
            f"R5: the volume removed ({volume_removed_ml} mL) cannot exceed the reservoir ({pump.reservoir_ml} mL)."
        ]
    if problem := fill_problem(volume_added_ml, pump.alarm_ml, pump.reservoir_ml):
        errors["volume_added_ml"] = [problem]
    if errors:
        raise InvalidInput(errors, rule="R5" if max(volume_removed_ml, volume_added_ml) > pump.reservoir_ml else "R1")
    if concentration_mcg_per_ml != pump.concentration_mcg_per_ml:
        raise WorkflowConflict(
            "T2: a different strength needs a new program; refill with the programmed "
            f"{pump.concentration_mcg_per_ml} mcg/mL.",
            rule="T2",
        )
    expected = estimated_volume(pump, refilled_at)
    refill = Refill.objects.create(
        pump=pump,
        refilled_at=refilled_at,
        volume_removed_ml=volume_removed_ml,
        volume_added_ml=volume_added_ml,
        concentration_mcg_per_ml=concentration_mcg_per_ml,
        lot=lot,
        expected_residual_ml=expected,
        refilled_by=actor,
    )
    before = {"refill_due_at": pump.refill_due_at, "alarm_at": pump.alarm_at}
    # R2: the estimate restarts from the new fill, at the program in force.
    pump.filled_at, pump.volume_after_fill_ml = refilled_at, volume_added_ml
    pump.save(update_fields=["filled_at", "volume_after_fill_ml"])
    reschedule_refill(pump, refilled_at, actor)
    gap = protocol.residual_discrepancy(expected, volume_removed_ml, current_policy())
    if gap is not None:
        alerts.raise_alert(
            kind=AlertKind.RESIDUAL_DISCREPANCY,
            severity=Severity.WARNING,
            patient=pump.patient,
            rule="R5",
            message=f"R5: {volume_removed_ml} mL found in the reservoir against {expected.quantize(Decimal('0.1'))} "
            f"mL expected ({gap.quantize(Decimal('0.1'))} mL apart): possible pump malfunction or dosing error.",
            target_role=Role.NEUROLOGIST,
            subject=refill,
            at=refilled_at,
        )
    record_event(
        actor=actor,
        action=AuditAction.REFILL_RECORDED,
        at=refilled_at,
        patient=pump.patient,
        subject=refill,
        before=before,
        after={
            "volume_removed_ml": volume_removed_ml,
            "volume_added_ml": volume_added_ml,
            "expected_residual_ml": expected,
            "lot": lot,
            "refill_due_at": pump.refill_due_at,
            "alarm_at": pump.alarm_at,
        },
        rules=["R1", "R2", "R5"],
    )
    return refill
