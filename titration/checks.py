"""The pump's due checks: refill reminders and overdue refills (R3, R4), and the next titration step (T3)."""

from datetime import datetime, timedelta

from django.utils import timezone

from alerts import services as alerts
from alerts.models import DueCheck
from wardflow import protocol
from wardflow.policy import current_policy
from wardflow.protocol import Phase, Severity
from wardflow.staff.models import Role

from .kinds import AlertKind, CheckKind
from .models import Pump


def refill_reminder(check: DueCheck, now: datetime) -> None:
    """R3/R4: refill reminders ahead of the due date."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    days = check.payload["days_before"]
    severity, rule = protocol.refill_reminder_level(days, current_policy())
    alerts.raise_alert(
        kind=AlertKind.REFILL_DUE,
        severity=severity,
        patient=pump.patient,
        rule=rule,
        message=f"{rule}: pump refill due in {days} day(s), on {timezone.localtime(pump.refill_due_at):%Y-%m-%d}.",
        target_role=Role.NURSE,
        subject=check,
        due_at=pump.refill_due_at,
        source_check=check,
        at=now,
    )


def refill_overdue(check: DueCheck, now: datetime) -> None:
    """R3: overdue from the due date, repeating daily until a refill is charted; R4: high withdrawal risk goes
    straight to the ward's neurologists as urgent."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    high_risk = pump.patient.high_withdrawal_risk
    alerts.raise_alert(
        kind=AlertKind.REFILL_OVERDUE,
        severity=Severity.URGENT if high_risk else Severity.WARNING,
        patient=pump.patient,
        rule="R4" if high_risk else "R3",
        message=f"{'R4' if high_risk else 'R3'}: pump refill overdue since "
        f"{timezone.localtime(pump.refill_due_at):%Y-%m-%d %H:%M}; abrupt withdrawal risk (W1).",
        target_role=Role.NEUROLOGIST if high_risk else Role.NURSE,
        subject=check,
        due_at=pump.refill_due_at,
        source_check=check,
        at=now,
    )
    alerts.schedule_check(
        CheckKind.REFILL_OVERDUE, due_at=check.due_at + timedelta(days=1), patient=pump.patient, subject=pump
    )


def titration_step_due(check: DueCheck, now: datetime) -> None:
    """T3: the next titration step may be programmed (24 h after the last one became active)."""
    pump = Pump.objects.select_related("patient", "active_change").get(pk=check.subject_id)
    if pump.phase != Phase.TITRATION or pump.active_change_id != check.payload["after_change"]:
        return  # titration ended, or another change became active since this check was scheduled
    alerts.raise_alert(
        kind=AlertKind.TITRATION_STEP_DUE,
        severity=Severity.INFO,
        patient=pump.patient,
        rule="T3",
        message=f"T3: 24 h since {pump.active_change.new_daily_dose_mcg} mcg/day became active; "
        "the next titration step may be programmed.",
        target_role=Role.NEUROLOGIST,
        subject=check,
        source_check=check,
        at=now,
    )


CHECK_HANDLERS = {
    CheckKind.REFILL_REMINDER: refill_reminder,
    CheckKind.REFILL_OVERDUE: refill_overdue,
    CheckKind.TITRATION_STEP_DUE: titration_step_due,
}
