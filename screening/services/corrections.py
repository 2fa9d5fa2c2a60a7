"""Marking a charted observation or test dose entered in error (D4). The record stays, struck through with who, when
and why; from then on every computation leaves it out: the assessment window and suggestion (S6, S7), the 24 h
spacing and the ladder (S1, S3), the latest NEWS2 (V1). Alerts it raised stay open for review: they were real alerts
at the time."""

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from wardflow.audit.services import record_event
from wardflow.errors import InvalidInput
from wardflow.protocol import TrialState

from ..kinds import AuditAction, CheckKind
from ..models import Observation, TestDose
from ..selectors import correction_refusal, dose_correction_refusal, earliest_test_dose_at
from .trials import lock_trial


def require_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput({"reason": ["D4: give the reason this record was entered in error."]}, rule="D4")


def mark(record, actor, reason: str) -> None:
    """D4: the record keeps every charted value; only who marked it, when and why are added."""
    record.entered_in_error_at, record.entered_in_error_by, record.entered_in_error_reason = (
        timezone.now(), actor, reason
    )  # fmt: skip
    record.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])


@transaction.atomic
def mark_observation_entered_in_error(*, actor, observation: Observation, reason: str) -> Observation:
    """D4: the observation no longer counts as a baseline or in the 4-8 h window (S6, S7), nor as the latest NEWS2
    (V1); a trial it suspended (S10) stays suspended for the neurologist's review."""
    if refusal := correction_refusal(actor):  # the role before any record is read
        raise refusal
    require_reason(reason)
    if observation.trial_id is not None:
        # Charting and assessing lock the trial first: an assessment waiting here then sees the window without it.
        lock_trial(observation.trial)
    observation = Observation.objects.select_for_update(of=("self",)).select_related("patient").get(pk=observation.pk)
    if refusal := correction_refusal(actor, observation.patient, observation):
        raise refusal
    mark(observation, actor, reason)
    record_event(
        actor=actor,
        action=AuditAction.OBSERVATION_ENTERED_IN_ERROR,
        patient=observation.patient,
        subject=observation,
        before={"entered_in_error": False},
        after={
            "entered_in_error": True,
            "observed_at": observation.observed_at,
            "ashworth_mean": observation.ashworth_mean,
            "penn_spasm_frequency": observation.penn_spasm_frequency,
        },
        rules=["D4"],
        reason=reason,
    )
    return observation


@transaction.atomic
def mark_test_dose_entered_in_error(*, actor, test_dose: TestDose, reason: str) -> TestDose:
    """D4: the dose was not given as charted. It frees its rung (S1) and no longer counts for the 24 h spacing
    (S3); a trial observing it awaits that rung again. An assessed dose decided the ladder (S9): refused until the
    assessment is corrected."""
    if refusal := correction_refusal(actor):  # the role before any record is read
        raise refusal
    require_reason(reason)
    trial = lock_trial(test_dose.trial)
    dose = TestDose.objects.select_for_update(of=("self",)).select_related("assessment").get(pk=test_dose.pk)
    dose.trial = trial
    if refusal := dose_correction_refusal(actor, dose):
        raise refusal
    before_state = trial.state
    mark(dose, actor, reason)
    # An unassessed dose is the trial's latest: the one being observed, or the one a suspension held (S10).
    if trial.state == TrialState.OBSERVING:
        trial.withdraw_dose()
        trial.save()
    elif trial.state == TrialState.SUSPENDED and trial.suspended_from == TrialState.OBSERVING:
        trial.suspended_from = TrialState.AWAITING_DOSE
        trial.save(update_fields=["suspended_from"])
    alerts.cancel_checks(subject=dose)
    alerts.cancel_checks(subject=trial, kinds=[CheckKind.NEXT_DOSE_DUE])
    earliest = earliest_test_dose_at(trial)
    if trial.state == TrialState.AWAITING_DOSE and earliest is not None:
        # S3: the freed rung is due 24 h after the patient's previous dose that counts, as an assessment sets it.
        alerts.schedule_check(CheckKind.NEXT_DOSE_DUE, due_at=earliest, patient=trial.patient, subject=trial,
                              payload={"number": dose.number})  # fmt: skip
    record_event(
        actor=actor,
        action=AuditAction.TEST_DOSE_ENTERED_IN_ERROR,
        patient=trial.patient,
        subject=dose,
        before={"entered_in_error": False, "trial_state": before_state},
        after={
            "entered_in_error": True,
            "number": dose.number,
            "dose_mcg": dose.dose_mcg,
            "administered_at": dose.administered_at,
            "trial_state": trial.state,
            "next_dose_due_at": earliest if trial.state == TrialState.AWAITING_DOSE else None,
        },
        rules=["D4"],
        reason=reason,
    )
    return dose
