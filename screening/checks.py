"""What screening does when one of its due checks comes due, and when a patient flag it cares about changes. The
tables at the end are registered by ScreeningConfig.ready()."""

from datetime import datetime

from alerts import services as alerts
from wardflow import protocol
from wardflow.clinical_time import clock_text
from wardflow.patients.signals import patient_flags_changed, pump_implanted
from wardflow.protocol import Severity, TrialState
from wardflow.staff.models import Role

from . import services
from .kinds import AlertKind, CheckKind
from .models import OPEN_STATES, ScreeningTrial, TestDose
from .selectors import slot_is_charted


def observation_overdue(check, now):
    """A1: raise "observation overdue" unless an observation for that time has been charted."""
    dose = TestDose.objects.select_related("trial").get(pk=check.subject_id)
    if dose.trial.state == TrialState.CANCELLED or dose.entered_in_error:  # D4: a dose not given is not observed
        return
    slot_due = datetime.fromisoformat(check.payload["slot_due_at"])
    if slot_is_charted(dose.trial.observations.all(), slot_due):
        return
    hours = round((slot_due - dose.administered_at).total_seconds() / 3600)
    alerts.raise_alert(
        kind=AlertKind.OBSERVATION_OVERDUE,
        severity=Severity.WARNING,
        patient=check.patient,
        rule="A1",
        message=f"A1: the {hours} h observation after test dose {dose.number} ({dose.dose_mcg} mcg) was due at "
        f"{clock_text(slot_due, now, always_date=True)} and has not been charted.",
        target_role=Role.NURSE,
        subject=check,
        due_at=slot_due,
        source_check=check,
        at=now,
    )


def next_dose_due(check, now):
    """S3/S9: tell the ward that the next rung may now be given."""
    trial = ScreeningTrial.objects.get(pk=check.subject_id)
    number = check.payload["number"]
    given = trial.doses.filter(number=number, entered_in_error_at__isnull=True).exists()  # D4: not one in error
    if trial.state != TrialState.AWAITING_DOSE or given:
        return
    dose = protocol.ladder_dose_mcg(number, trial.first_dose_mcg)
    alerts.raise_alert(
        kind=AlertKind.NEXT_TEST_DOSE_DUE,
        severity=Severity.INFO,
        patient=check.patient,
        rule="S3",
        message=f"S3: test dose {number} ({dose} mcg, {protocol.ladder_volume_ml(dose)} mL) may be given now.",
        target_role=Role.NURSE,
        subject=trial,
        due_at=check.due_at,
        source_check=check,
        at=now,
    )


def suspend_trial_for_infection(sender, *, actor, patient, changed, **kwargs):
    """P1: an infection charted mid-trial suspends the open trial (runs inside the flag change's transaction)."""
    if not changed.get("active_infection"):
        return
    for trial in ScreeningTrial.objects.filter(patient=patient, state__in=OPEN_STATES):
        services.suspend_trial(
            actor=actor, trial=trial, reason="P1: active infection charted during screening.", rule="P1"
        )


def close_schedule_at_implant(sender, *, actor, screening_trial, **kwargs):
    """T1: with the pump in, the screening trial that led to it has nothing more due (runs inside the implant's
    transaction)."""
    services.close_trial_schedule(actor=actor, trial=screening_trial)


CHECK_HANDLERS = {
    CheckKind.OBSERVATION_OVERDUE: observation_overdue,
    CheckKind.NEXT_DOSE_DUE: next_dose_due,
}

RECEIVERS = [
    (patient_flags_changed, suspend_trial_for_infection, "screening.p1"),
    (pump_implanted, close_schedule_at_implant, "screening.t1"),
]
