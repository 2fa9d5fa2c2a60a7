"""Refills (R1, R2, R5) and the refill schedule every change of fill or program recomputes (R2-R4)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_not_future
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import Severity
from wardflow.staff.models import Role

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import Pump, Refill
from ..selectors import estimated_volume
from .pumps import fill_problem, locked_pump

REFILL_ALERT_KINDS = (AlertKind.REFILL_DUE, AlertKind.REFILL_OVERDUE)


def reschedule_refill(pump: Pump, moment: datetime) -> None:
    """R2-R4: recompute alarm and refill due from `moment` at the program now in force, and replace the pending
    reminders, so that no stale or duplicate reminder survives a dose change or a refill."""
    alerts.cancel_checks(subject=pump, kinds=[CheckKind.REFILL_REMINDER, CheckKind.REFILL_OVERDUE])
    active = pump.active_change
    if active is None or active.new_daily_dose_mcg == 0:
        pump.alarm_at = pump.refill_due_at = None
        pump.save(update_fields=["alarm_at", "refill_due_at"])
        return
    policy = current_policy()
    volume = estimated_volume(pump, moment)
    pump.alarm_at = protocol.alarm_time(
        moment, volume, pump.alarm_ml, pump.concentration_mcg_per_ml, active.new_daily_dose_mcg
    )
    pump.refill_due_at = protocol.refill_due(pump.alarm_at, policy)
    pump.save(update_fields=["alarm_at", "refill_due_at"])
    for days in protocol.refill_reminder_days(pump.patient.high_withdrawal_risk, policy):
        alerts.schedule_check(
            CheckKind.REFILL_REMINDER,
            due_at=pump.refill_due_at - timedelta(days=days),
            patient=pump.patient,
            subject=pump,
            payload={"days_before": days},
        )
    alerts.schedule_check(CheckKind.REFILL_OVERDUE, due_at=pump.refill_due_at, patient=pump.patient, subject=pump)


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
    """R5: record the refill; the residual found is checked against the estimate (advisory beyond 2 mL); the
    reservoir estimate, alarm and refill due restart from this fill (R2) and the reminders are replaced (R3/R4)."""
    pump = locked_pump(pump)
    ensure_not_future("refilled_at", refilled_at)
    if refilled_at < pump.filled_at:
        raise InvalidInput({"refilled_at": ["A refill cannot precede the previous fill."]})
    if problem := fill_problem(volume_added_ml, pump.alarm_ml, pump.reservoir_ml):
        raise InvalidInput({"volume_added_ml": [problem]})
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
    reschedule_refill(pump, refilled_at)
    alerts.resolve_alerts(patient=pump.patient, kinds=REFILL_ALERT_KINDS, actor=actor, at=refilled_at)
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
