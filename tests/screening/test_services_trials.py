"""The trial acts called directly: opening (S1, S11, T13, P2), suspending, resuming (S10, P1) and cancelling."""

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
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


def test_a_patient_with_a_pump_in_place_is_refused_t13(clock, implanted_adult, neurologist):
    events_before = AuditEvent.objects.count()
    assert not selectors.may_open_trial(neurologist, implanted_adult)
    with pytest.raises(WorkflowConflict) as refused:
        services.open_trial(actor=neurologist, patient=implanted_adult)
    assert refused.value.rule == "T13"
    assert ScreeningTrial.objects.count() == 1  # only the one that led to the pump
    assert AuditEvent.objects.count() == events_before


def test_a_patient_whose_pump_was_explanted_may_be_screened_again_without_override_t13(
    clock, explanted_adult, neurologist
):
    assert selectors.may_open_trial(neurologist, explanted_adult)
    assert selectors.open_trial_overrides(explanted_adult) == ()
    trial = services.open_trial(actor=neurologist, patient=explanted_adult)
    assert trial.state == TrialState.AWAITING_DOSE
    assert AuditEvent.objects.get(action="screening.opened").rules == ["S1"]


def test_a_candidate_awaiting_the_implant_cannot_open_another_trial_s11(candidate_adult, neurologist):
    assert not selectors.may_open_trial(neurologist, candidate_adult)
    with pytest.raises(WorkflowConflict) as refused:
        services.open_trial(actor=neurologist, patient=candidate_adult, override_reason="second opinion")
    assert refused.value.rule == "S11"
    assert "implant follows (T1)" in refused.value.detail
    assert ScreeningTrial.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_rescreening_after_not_candidate_needs_a_written_override_s11(not_candidate_adult, neurologist):
    assert selectors.may_open_trial(neurologist, not_candidate_adult)  # the page offers it, asking for the reason
    assert selectors.open_trial_overrides(not_candidate_adult) == ("S11",)
    with pytest.raises(WorkflowConflict) as refused:
        services.open_trial(actor=neurologist, patient=not_candidate_adult, override_reason="  ")
    assert refused.value.rule == "S11"
    assert ScreeningTrial.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_rescreening_after_not_candidate_with_an_override_is_audited_with_its_reason_s11(
    not_candidate_adult, neurologist
):
    trial = services.open_trial(actor=neurologist, patient=not_candidate_adult,
                                override_reason="oral therapy failed since; MDT asks for a second trial")  # fmt: skip
    assert trial.state == TrialState.AWAITING_DOSE
    event = AuditEvent.objects.get(action="screening.opened")
    assert (event.rules, event.reason) == (["S1", "S11"], "oral therapy failed since; MDT asks for a second trial")


def test_a_cancelled_trial_needs_no_override_to_screen_again_s11(trial, neurologist):
    services.cancel_trial(actor=neurologist, trial=trial, reason="family asked to wait a week")
    assert selectors.open_trial_overrides(trial.patient) == ()
    again = services.open_trial(actor=neurologist, patient=trial.patient)
    assert again.state == TrialState.AWAITING_DOSE
    assert AuditEvent.objects.filter(action="screening.opened").latest("id").rules == ["S1"]


def test_a_cancelled_rescreening_does_not_lift_the_override_s11(not_candidate_adult, neurologist):
    second = services.open_trial(actor=neurologist, patient=not_candidate_adult, override_reason="MDT agreed")
    services.cancel_trial(actor=neurologist, trial=second, reason="consent withdrawn")
    with pytest.raises(WorkflowConflict) as refused:
        services.open_trial(actor=neurologist, patient=not_candidate_adult)
    assert refused.value.rule == "S11"
    assert ScreeningTrial.objects.count() == 2


def test_a_trial_opened_within_24_h_of_an_earlier_dose_tells_the_ward_when_dose_1_is_due_s3(clock, dose, neurologist):
    clock.move_to(hours(1))
    services.cancel_trial(actor=neurologist, trial=dose.trial, reason="wrong patient list; restarting")
    second = services.open_trial(actor=neurologist, patient=dose.trial.patient)
    check = DueCheck.objects.get(kind="screening.next_dose_due", state=DueCheck.State.PENDING)
    assert (check.subject_id, check.due_at, check.payload) == (str(second.pk), hours(24), {"number": 1})
    dispatch_due_checks(now=hours(23.9))
    assert not Alert.objects.filter(kind="next_test_dose_due").exists()
    dispatch_due_checks(now=hours(24))
    assert Alert.objects.get(kind="next_test_dose_due").message.startswith("S3: test dose 1 (50.0 mcg")


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
