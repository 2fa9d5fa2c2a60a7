"""chart_observation called directly: which trial it belongs to (S10), its bounds (S5), the signs (S10, O1, W1) and
the due check it fills (A1)."""

from decimal import Decimal

import pytest

from alerts.models import Alert, DueCheck
from screening import services
from screening.models import Observation
from tests.screening.support import chart_on, hours
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.protocol import TrialState

pytestmark = pytest.mark.django_db


def test_a_serious_adverse_event_suspends_the_trial_and_alerts_the_neurologists_s10(clock, dose, nurse):
    clock.move_to(hours(2))
    chart_on(nurse, dose.trial.patient, hours(2), trial=dose.trial, signs=["seizure"])
    dose.trial.refresh_from_db()
    assert dose.trial.state == TrialState.SUSPENDED
    assert dose.trial.status_reason == "S10: serious adverse event charted: seizure"
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.target_role) == ("serious_adverse_event", "urgent", "neurologist")
    event = AuditEvent.objects.get(action="observation.charted", after__signs=["seizure"])
    assert (event.before, event.after["trial_state"]) == ({"trial_state": "observing"}, "suspended")


def test_without_a_trial_given_it_goes_to_the_patients_suspended_trial_s10(clock, trial, nurse, neurologist):
    services.suspend_trial(actor=neurologist, trial=trial, reason="seizure under review")
    observation = chart_on(nurse, trial.patient, hours(0))
    assert observation.trial == trial
    trial.refresh_from_db()
    assert trial.state == TrialState.SUSPENDED


def test_a_patient_without_a_current_trial_charts_without_one(clock, implanted_adult, nurse):
    observation = chart_on(nurse, implanted_adult, hours(0))
    assert observation.trial is None
    assert AuditEvent.objects.filter(action="observation.charted").count() == 1


def test_a_reading_outside_the_bounds_writes_nothing_s5(trial, nurse):
    with pytest.raises(InvalidInput) as refused:
        chart_on(nurse, trial.patient, hours(0), spo2=Decimal("101"))
    assert (refused.value.rule, list(refused.value.errors)) == ("S5", ["spo2"])
    assert not Observation.objects.exists()
    assert not AuditEvent.objects.filter(action="observation.charted").exists()


def test_nothing_is_charted_on_a_closed_trial_s9(trial, nurse, neurologist):
    services.cancel_trial(actor=neurologist, trial=trial, reason="family withdrew consent")
    with pytest.raises(WorkflowConflict) as refused:
        chart_on(nurse, trial.patient, hours(0), trial=trial)
    assert refused.value.rule == "S9"
    assert not Observation.objects.exists()


def test_withdrawal_signs_alert_without_suspending_w1(trial, nurse):
    chart_on(nurse, trial.patient, hours(0), signs=["pruritus"])
    assert Alert.objects.get().kind == "withdrawal_signs"
    trial.refresh_from_db()
    assert trial.state == TrialState.AWAITING_DOSE


def test_an_observation_closes_the_check_of_the_time_it_was_due_a1(clock, dose, nurse):
    clock.move_to(hours(1))
    chart_on(nurse, dose.trial.patient, hours(0.9))
    checks = DueCheck.objects.filter(kind="screening.observation_overdue")
    assert [c.payload["slot_due_at"] for c in checks.filter(state=DueCheck.State.CANCELLED)] == [hours(1).isoformat()]
    assert checks.filter(state=DueCheck.State.PENDING).count() == 7
