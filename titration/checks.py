"""The pump's due checks: refill reminders and overdue refills (R3, R4), the next titration step (T3) and the elective
replacement ahead (T13), the observation due after a refill (R6); and what titration does when a patient flag it cares
about changes (R4). The tables at the
end are registered by TitrationConfig.ready()."""

from datetime import datetime, timedelta

from alerts import services as alerts
from alerts.models import DueCheck
from screening.kinds import AlertKind as ScreeningAlertKind
from screening.selectors import slot_is_charted
from wardflow import protocol
from wardflow.clinical_time import clock_text, ward_local
from wardflow.patients.services import FLAG_RULES
from wardflow.patients.signals import patient_flags_changed
from wardflow.policy import current_policy
from wardflow.protocol import Phase, Severity
from wardflow.staff.models import Role

from . import services
from .kinds import AlertKind, CheckKind
from .models import Pump, Refill

P4_FLAGS = frozenset(field for field, rule in FLAG_RULES.items() if rule == "P4")


def time_left(delta: timedelta) -> str:
    """R3: the real time left to the due date, to the nearest hour (minutes in the last hour)."""
    hours = round(delta / timedelta(hours=1))
    if hours == 0:
        return f"{max(round(delta / timedelta(minutes=1)), 0)} min"
    days, hours = divmod(hours, 24)
    return " ".join(part for part in (f"{days} day(s)" if days else "", f"{hours} h" if hours else "") if part)


def refill_reminder(check: DueCheck, now: datetime) -> None:
    """R3/R4: a refill reminder ahead of the due date, stating the time really left; it replaces the pump's earlier
    reminder still open (at most one open refill reminder)."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    if now >= pump.refill_due_at:
        return  # dispatched after the due date: the overdue alert speaks for it
    severity, rule = protocol.refill_reminder_level(check.payload["days_before"], current_policy())
    # T13: one pump in place per patient, so the patient's refill reminders are this pump's.
    alerts.resolve_alerts(patient=pump.patient, kinds=[AlertKind.REFILL_DUE], at=now)
    alerts.raise_alert(
        kind=AlertKind.REFILL_DUE,
        severity=severity,
        patient=pump.patient,
        rule=rule,
        message=f"{rule}: pump refill due in {time_left(pump.refill_due_at - now)}, on "
        f"{ward_local(pump.refill_due_at):%Y-%m-%d}.",
        target_role=Role.NURSE,
        subject=check,
        due_at=pump.refill_due_at,
        source_check=check,
        at=now,
    )


def refill_overdue(check: DueCheck, now: datetime) -> None:
    """R3: overdue from the due date, repeating daily until a refill is charted; it closes the last reminder. R4:
    high withdrawal risk goes straight to the ward's neurologists as urgent."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    high_risk = pump.patient.high_withdrawal_risk
    alerts.resolve_alerts(patient=pump.patient, kinds=[AlertKind.REFILL_DUE], at=now)
    alerts.raise_alert(
        kind=AlertKind.REFILL_OVERDUE,
        severity=Severity.URGENT if high_risk else Severity.WARNING,
        patient=pump.patient,
        rule="R4" if high_risk else "R3",
        message=f"{'R4' if high_risk else 'R3'}: pump refill overdue since "
        f"{ward_local(pump.refill_due_at):%Y-%m-%d %H:%M}; abrupt withdrawal risk (W1).",
        target_role=Role.NEUROLOGIST if high_risk else Role.NURSE,
        subject=check,
        due_at=pump.refill_due_at,
        source_check=check,
        at=now,
    )
    alerts.schedule_check(
        CheckKind.REFILL_OVERDUE,
        due_at=check.due_at + timedelta(hours=current_policy().refill_overdue_repeat_hours),
        patient=pump.patient,
        subject=pump,
    )


def titration_step_due(check: DueCheck, now: datetime) -> None:
    """T3: the next titration step may be programmed (`titration_spacing_hours` after the last one became active)."""
    pump = Pump.objects.select_related("patient", "active_change").get(pk=check.subject_id)
    if pump.phase != Phase.TITRATION or pump.active_change_id != check.payload["after_change"]:
        return  # titration ended, or another change became active since this check was scheduled
    alerts.raise_alert(
        kind=AlertKind.TITRATION_STEP_DUE,
        severity=Severity.INFO,
        patient=pump.patient,
        rule="T3",
        message=f"T3: {current_policy().titration_spacing_hours} h since {pump.active_change.new_daily_dose_mcg} "
        "mcg/day became active; the next titration step may be programmed.",
        target_role=Role.NEUROLOGIST,
        subject=check,
        source_check=check,
        at=now,
    )


def elective_replacement(check: DueCheck, now: datetime) -> None:
    """T13: `elective_replacement_alert_days` before a pump's elective replacement date (end of battery life), a
    warning to the ward's neurologists naming the pump and the date."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    if not pump.in_place:
        return  # taken out since (its check is cancelled then; one already being dispatched finds it here)
    services.elective_replacement_alert(pump, now, source_check=check)


def refill_observation_overdue(check: DueCheck, now: datetime) -> None:
    """R6/A1: the observation due after a refill was not charted: the ward's A1 "observation overdue" alert (a late
    observation closes it as it closes screening's; unacknowledged, it escalates as A1)."""
    refill = Refill.objects.select_related("pump__patient").get(pk=check.subject_id)
    slot_due = datetime.fromisoformat(check.payload["slot_due_at"])
    if refill.entered_in_error or slot_is_charted(refill.pump.patient.observations.all(), slot_due):
        return
    alerts.raise_alert(
        kind=ScreeningAlertKind.OBSERVATION_OVERDUE,
        severity=Severity.WARNING,
        patient=refill.pump.patient,
        rule="A1",
        message=f"A1/R6: the observation due {current_policy().refill_observation_hours} h after the refill of "
        f"{clock_text(refill.refilled_at, now, always_date=True)} (overdose watch) was due at "
        f"{clock_text(slot_due, now, always_date=True)} and has not been charted.",
        target_role=Role.NURSE,
        subject=check,
        due_at=slot_due,
        source_check=check,
        at=now,
    )


def follow_withdrawal_risk(sender, *, actor, patient, changed, **kwargs):
    """R4: a P4 factor charted or cleared after programming moves the pump's refill reminders at once, when it
    changes the patient's withdrawal risk (runs inside the flag change's transaction)."""
    if not P4_FLAGS & changed.keys():
        return
    # `changed` holds the flags whose value changed, with their new value: each P4 flag was the opposite before.
    before = {flag: not changed[flag] if flag in changed else getattr(patient, flag) for flag in P4_FLAGS}
    high_risk_before = protocol.high_withdrawal_risk(**before)
    if high_risk_before != patient.high_withdrawal_risk:
        services.reschedule_refill_reminders(patient=patient, high_risk_before=high_risk_before)


CHECK_HANDLERS = {
    CheckKind.REFILL_REMINDER: refill_reminder,
    CheckKind.REFILL_OVERDUE: refill_overdue,
    CheckKind.TITRATION_STEP_DUE: titration_step_due,
    CheckKind.REFILL_OBSERVATION: refill_observation_overdue,
    CheckKind.ELECTIVE_REPLACEMENT: elective_replacement,
}

RECEIVERS = [
    (patient_flags_changed, follow_withdrawal_risk, "titration.r4"),
]
