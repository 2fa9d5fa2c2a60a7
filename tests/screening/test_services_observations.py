"""chart_observation called directly: which trial it belongs to (S10), its bounds (S5), the signs (S10, O1, W1) and
the due check it fills (A1)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert, DueCheck
from screening import services
from screening.models import Observation
from tests.screening.support import T0, chart_on, hours
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


def test_withdrawal_list_signs_during_screening_alert_without_suspending_w1(trial, nurse):
    chart_on(nurse, trial.patient, hours(0), signs=["pruritus"])
    assert Alert.objects.get().kind == "bolus_adverse_effect"
    trial.refresh_from_db()
    assert trial.state == TrialState.AWAITING_DOSE


@pytest.mark.parametrize(("signs", "sedation"), [(["coma"], "alert"), ([], "unrousable")], ids=["coma", "unrousable"])
def test_coma_or_unrousable_sedation_suspends_the_trial_s10(clock, dose, nurse, signs, sedation):
    clock.move_to(hours(2))
    chart_on(nurse, dose.trial.patient, hours(2), trial=dose.trial, signs=signs, sedation=sedation)
    dose.trial.refresh_from_db()
    assert dose.trial.state == TrialState.SUSPENDED
    assert dose.trial.status_reason == f"S10: serious adverse event charted: {(signs or ['sedation unrousable'])[0]}"
    alert = Alert.objects.exclude(rule="V1").get()  # NEWS2 alerts of its own (V1)
    assert (alert.kind, alert.rule, alert.severity) == ("serious_adverse_event", "S10", "urgent")


def test_a_serious_adverse_event_in_screening_is_resuscitation_never_the_reservoir_s10(clock, dose, nurse):
    clock.move_to(hours(2))
    chart_on(nurse, dose.trial.patient, hours(2), trial=dose.trial, signs=["respiratory_depression", "somnolence"])
    message = Alert.objects.get().message
    assert "airway, breathing and circulation" in message and "emergency team" in message
    assert "reservoir" not in message


def test_overdose_signs_without_a_pump_never_mention_the_reservoir_o1(clock, dose, nurse):
    clock.move_to(hours(2))
    chart_on(nurse, dose.trial.patient, hours(2), trial=dose.trial, signs=["somnolence"], sedation="drowsy")
    alert = Alert.objects.exclude(rule="V1").get()  # NEWS2 alerts of its own (V1)
    assert (alert.kind, alert.rule, alert.severity) == ("overdose_signs", "O1", "urgent")
    assert "reservoir" not in alert.message
    dose.trial.refresh_from_db()
    assert dose.trial.state == TrialState.OBSERVING


def test_a_serious_sign_with_a_pump_in_place_is_an_overdose_whose_guidance_is_the_reservoir_o1(clock, implanted_adult,
                                                                                              nurse):  # fmt: skip
    chart_on(nurse, implanted_adult, hours(0), signs=["respiratory_depression"], respiratory_rate=Decimal("7"))
    alert = Alert.objects.exclude(rule="V1").get()  # NEWS2 alerts of its own (V1)
    assert (alert.kind, alert.rule, alert.severity) == ("overdose_signs", "O1", "urgent")
    assert "consider emptying the pump reservoir" in alert.message
    assert not Alert.objects.filter(kind="serious_adverse_event").exists()


def test_hypotension_after_a_test_bolus_is_a_warning_to_the_neurologists_not_withdrawal_w1(clock, dose, nurse):
    clock.move_to(hours(2))
    chart_on(nurse, dose.trial.patient, hours(2), trial=dose.trial, signs=["hypotension"], systolic_bp=Decimal("88"))
    alert = Alert.objects.exclude(rule="V1").get()  # NEWS2 alerts of its own (V1)
    assert (alert.kind, alert.rule, alert.severity, alert.target_role) == (
        "bolus_adverse_effect", "W1", "warning", "neurologist",
    )  # fmt: skip
    assert "restore" not in alert.message.lower()
    assert not Alert.objects.filter(kind="withdrawal_signs").exists()
    assert "W1" in AuditEvent.objects.get(action="observation.charted", after__signs=["hypotension"]).rules


def test_withdrawal_applies_for_14_days_after_an_explant_w1(clock, explanted_adult, nurse):
    chart_on(nurse, explanted_adult, T0 - timedelta(days=2), signs=["pruritus"])  # 13 days after the explant
    chart_on(nurse, explanted_adult, T0, signs=["paresthesias"])  # 15 days after it
    by_sign = {a.message.split(" charted")[0]: (a.kind, a.severity) for a in Alert.objects.all()}
    assert by_sign == {"pruritus": ("withdrawal_signs", "urgent"), "paresthesias": ("bolus_adverse_effect", "warning")}


def test_an_observation_closes_the_check_of_the_time_it_was_due_a1(clock, dose, nurse):
    clock.move_to(hours(1))
    chart_on(nurse, dose.trial.patient, hours(0.9))
    checks = DueCheck.objects.filter(kind="screening.observation_overdue")
    assert [c.payload["slot_due_at"] for c in checks.filter(state=DueCheck.State.CANCELLED)] == [hours(1).isoformat()]
    assert checks.filter(state=DueCheck.State.PENDING).count() == 7


def test_a_late_entrys_reason_is_stored_and_audited_a1(clock, trial, nurse):
    clock.move_to(hours(3))
    observation = chart_on(nurse, trial.patient, hours(1), trial=trial, late_reason="  Patient was in theatre  ")
    observation.refresh_from_db()
    assert observation.late_reason == "Patient was in theatre"
    event = AuditEvent.objects.get(action="observation.charted", subject_id=str(observation.pk))
    assert event.after["late_reason"] == "Patient was in theatre"


def test_an_observation_without_a_late_reason_audits_none(trial, nurse):
    observation = chart_on(nurse, trial.patient, hours(0), trial=trial)
    assert observation.late_reason == ""
    assert "late_reason" not in AuditEvent.objects.get(action="observation.charted").after
