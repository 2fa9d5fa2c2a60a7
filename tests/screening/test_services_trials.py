"""The trial acts called directly: opening (S1, T1, P2), suspending, resuming (S10, P1) and cancelling."""

import pytest

from alerts.models import DueCheck
from screening import selectors, services
from screening.models import ScreeningTrial
from tests.screening.support import hours
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, RoleNotAllowed, WorkflowConflict
from wardflow.patients.services import update_patient_flags
from wardflow.protocol import TrialState

pytestmark = pytest.mark.django_db


def test_opening_writes_the_trial_awaiting_dose_1_and_its_audit_event_s1(clock, adult, neurologist):
    trial = services.open_trial(actor=neurologist, patient=adult)
    assert (trial.state, trial.first_dose_mcg, trial.opened_by) == (TrialState.AWAITING_DOSE, 50, neurologist)
    event = AuditEvent.objects.get()
    assert (event.action, event.rules, event.subject_id) == ("screening.opened", ["S1"], str(trial.pk))


def test_a_nurse_is_refused_and_offered_nothing_s1(clock, adult, nurse):
    assert not selectors.may_open_trial(nurse, adult)
    with pytest.raises(RoleNotAllowed, match="S1"):
        services.open_trial(actor=nurse, patient=adult)
    assert not ScreeningTrial.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_patient_with_a_pump_is_refused_t1(clock, implanted_adult, neurologist):
    events_before = AuditEvent.objects.count()
    assert not selectors.may_open_trial(neurologist, implanted_adult)
    with pytest.raises(WorkflowConflict) as refused:
        services.open_trial(actor=neurologist, patient=implanted_adult)
    assert refused.value.rule == "T1"
    assert ScreeningTrial.objects.count() == 1  # only the one that led to the pump
    assert AuditEvent.objects.count() == events_before


def test_a_suspended_trial_still_blocks_a_second_one_s1(trial, neurologist):
    services.suspend_trial(actor=neurologist, trial=trial, reason="seizure under review")
    assert not selectors.may_open_trial(neurologist, trial.patient)
    with pytest.raises(WorkflowConflict) as refused:
        services.open_trial(actor=neurologist, patient=trial.patient)
    assert refused.value.rule == "S1"
    assert ScreeningTrial.objects.count() == 1


def test_suspending_without_a_reason_changes_nothing(trial, neurologist):
    events_before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        services.suspend_trial(actor=neurologist, trial=trial, reason="  ")
    trial.refresh_from_db()
    assert trial.state == TrialState.AWAITING_DOSE
    assert AuditEvent.objects.count() == events_before


def test_an_infection_charted_suspends_the_trial_and_blocks_its_resumption_p1(trial, nurse, neurologist):
    update_patient_flags(actor=nurse, patient=trial.patient, changes={"active_infection": True})
    trial.refresh_from_db()
    assert trial.state == TrialState.SUSPENDED
    with pytest.raises(WorkflowConflict) as refused:
        services.resume_trial(actor=neurologist, trial=trial, reason="reviewed")
    assert refused.value.rule == "P1"
    trial.refresh_from_db()
    assert trial.state == TrialState.SUSPENDED
    assert not AuditEvent.objects.filter(action="screening.resumed").exists()


def test_cancelling_closes_the_trial_and_its_doses_due_checks(clock, dose, neurologist):
    clock.move_to(hours(1))
    trial = services.cancel_trial(actor=neurologist, trial=dose.trial, reason="family withdrew consent")
    assert (trial.state, trial.closed_at) == (TrialState.CANCELLED, hours(1))
    assert not DueCheck.objects.filter(state=DueCheck.State.PENDING).exists()
    assert AuditEvent.objects.get(action="screening.cancelled").reason == "family withdrew consent"
