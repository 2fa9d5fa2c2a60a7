"""give_test_dose called directly: the ladder (S1), its 24 h spacing across the patient's trials (S3, S11), its
preparation (S4) and P1."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.models import DueCheck
from screening import selectors, services
from screening.models import TestDose
from tests.screening.support import chart_on, give_dose, hours
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.protocol import TrialState

pytestmark = pytest.mark.django_db


def test_dose_1_starts_the_observation_and_schedules_a_check_for_each_observation_s5(trial, nurse):
    chart_on(nurse, trial.patient, hours(-0.5), trial=trial)  # baseline (V2)
    dose = give_dose(nurse, trial, hours(0))
    trial.refresh_from_db()
    assert (dose.number, dose.dose_mcg, trial.state) == (1, Decimal("50"), TrialState.OBSERVING)
    due = DueCheck.objects.filter(kind="screening.observation_overdue").order_by("due_at")
    assert [c.payload["slot_due_at"] for c in due] == [hours(h).isoformat() for h in range(1, 9)]
    assert AuditEvent.objects.get(action="test_dose.given").rules == ["S1", "S4", "V2"]


def test_dose_2_within_24_h_of_dose_1_is_refused_s3(clock, dose, nurse, neurologist):
    clock.move_to(hours(4.1))
    chart_on(nurse, dose.trial.patient, hours(4), trial=dose.trial)
    services.assess_response(actor=neurologist, test_dose=dose, response="inadequate")
    clock.move_to(hours(23.9))
    with pytest.raises(WorkflowConflict) as refused:
        give_dose(nurse, dose.trial, hours(23.9), number=2)
    assert refused.value.rule == "S3"
    assert refused.value.extra["next_dose_due_at"] == hours(24)
    assert TestDose.objects.count() == 1
    assert AuditEvent.objects.filter(action="test_dose.given").count() == 1


def test_a_dose_off_the_ladder_is_refused_naming_the_dose_s1(trial, nurse):
    with pytest.raises(InvalidInput) as refused:
        give_dose(nurse, trial, hours(0), dose_mcg=Decimal("75"), volume_ml=Decimal("1.5"))
    assert refused.value.rule == "S1"
    assert list(refused.value.errors) == ["dose_mcg"]
    assert not TestDose.objects.exists()
    assert not DueCheck.objects.exists()
    assert not AuditEvent.objects.filter(action="test_dose.given").exists()


def test_an_injection_faster_than_the_minimum_is_refused_s4(trial, nurse):
    with pytest.raises(InvalidInput) as refused:
        give_dose(nurse, trial, hours(0), injection_seconds=30)
    assert (refused.value.rule, list(refused.value.errors)) == ("S4", ["injection_seconds"])
    trial.refresh_from_db()
    assert trial.state == TrialState.AWAITING_DOSE
    assert not TestDose.objects.exists()


def test_no_dose_while_an_infection_is_charted_p1(trial, nurse):
    patient = trial.patient
    patient.active_infection = True
    patient.save()
    trial.refresh_from_db()
    assert not selectors.may_give_dose(nurse, trial)
    with pytest.raises(WorkflowConflict) as refused:
        give_dose(nurse, trial, hours(0))
    assert refused.value.rule == "P1"
    assert not TestDose.objects.exists()
    assert not AuditEvent.objects.filter(action="test_dose.given").exists()


def test_giving_a_dose_closes_the_next_dose_due_check_s3(clock, dose, nurse, neurologist):
    clock.move_to(hours(4.1))
    chart_on(nurse, dose.trial.patient, hours(4), trial=dose.trial)
    services.assess_response(actor=neurologist, test_dose=dose, response="inadequate")
    clock.move_to(hours(24) + timedelta(minutes=5))
    chart_on(nurse, dose.trial.patient, hours(23.5), trial=dose.trial)  # baseline (V2)
    give_dose(nurse, dose.trial, hours(24), number=2)
    next_due = DueCheck.objects.get(kind="screening.next_dose_due")
    assert next_due.state == DueCheck.State.CANCELLED


def test_a_new_trial_after_a_cancelled_one_waits_24_h_from_its_last_dose_s3(clock, dose, nurse, neurologist):
    clock.move_to(hours(0.5))
    services.cancel_trial(actor=neurologist, trial=dose.trial, reason="consent withdrawn, then given again")
    second = services.open_trial(actor=neurologist, patient=dose.trial.patient)
    clock.move_to(hours(1))
    assert selectors.next_dose(selectors.trial_with_details(second.pk)) == (1, Decimal("50"), hours(24))
    with pytest.raises(WorkflowConflict) as refused:
        give_dose(nurse, second, hours(1))
    assert refused.value.rule == "S3"
    assert refused.value.extra["next_dose_due_at"] == hours(24)
    assert not second.doses.exists()
    assert AuditEvent.objects.filter(action="test_dose.given").count() == 1


def test_a_rescreening_waits_24_h_from_the_not_candidate_trials_last_dose_s11(not_candidate_adult, nurse,
                                                                             neurologist):  # fmt: skip
    second = services.open_trial(actor=neurologist, patient=not_candidate_adult, override_reason="MDT agreed")
    with pytest.raises(WorkflowConflict) as refused:
        give_dose(nurse, second, hours(0))
    assert (refused.value.rule, refused.value.extra["next_dose_due_at"]) == ("S3", hours(18))
    assert not second.doses.exists()
    assert not AuditEvent.objects.filter(action="test_dose.given").exists()


def test_the_first_dose_of_a_new_trial_is_spaced_to_the_second_s3(clock, not_candidate_adult, nurse, neurologist):
    second = services.open_trial(actor=neurologist, patient=not_candidate_adult, override_reason="MDT agreed")
    clock.move_to(hours(18))
    with pytest.raises(WorkflowConflict):
        give_dose(nurse, second, hours(18) - timedelta(seconds=1))
    chart_on(nurse, not_candidate_adult, hours(17.5), trial=second)  # baseline (V2)
    dose = give_dose(nurse, second, hours(18))
    assert (dose.number, dose.dose_mcg) == (1, Decimal("50"))
    assert AuditEvent.objects.get(action="test_dose.given").rules == ["S1", "S11", "S3", "S4", "V2"]


def test_a_dose_dated_long_before_the_patients_registration_is_refused(trial, nurse):
    with pytest.raises(InvalidInput) as refused:
        give_dose(nurse, trial, hours(0) - timedelta(days=31))
    assert list(refused.value.errors) == ["administered_at"]
    assert not TestDose.objects.exists()
    assert not AuditEvent.objects.filter(action="test_dose.given").exists()
