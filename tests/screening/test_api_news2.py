"""V1 (every observation carries its NEWS2; a raised score alerts the neurologists) and V2 (the pre-dose check of a
test dose against its baseline) through the HTTP API, as the real roles."""

from datetime import timedelta

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from screening.models import Observation, TestDose
from tests.screening.support import chart, give, hours, observation_body, trial_of
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

# RR 6 (3) + SpO2 84 (3) + pulse 48 (1) + systolic BP 88 (3) + temperature 38.9 (1), alert, on air: NEWS2 11.
DANGEROUS = {"respiratory_rate": "6", "spo2": "84", "heart_rate": "48", "systolic_bp": "88", "diastolic_bp": "50",
             "temperature_c": "38.9", "sedation": "alert", "on_oxygen": False}  # fmt: skip
DANGEROUS_NEWS2 = {
    "score": 11,
    "risk": "high",
    "parameters": {"respiratory_rate": 3, "spo2": 3, "on_oxygen": 0, "systolic_bp": 3, "heart_rate": 1,
                   "sedation": 0, "temperature_c": 1},
}  # fmt: skip
# RR 21 (2) + SpO2 93 (2) + pulse 91 (1): NEWS2 5, medium.
MEDIUM = {"respiratory_rate": "21", "spo2": "93", "heart_rate": "91"}


def doses_given():
    return AuditEvent.objects.filter(action="test_dose.given")


def nothing_given(trial_id, nurse):
    assert not TestDose.objects.exists()
    assert not doses_given().exists()
    assert not DueCheck.objects.filter(kind="screening.observation_overdue").exists()
    assert trial_of(nurse, trial_id)["state"] == "awaiting_dose"


def test_every_observation_carries_its_news2_and_whether_on_oxygen_v1(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    response = chart(nurse, open_trial_id, hours(0), on_oxygen=True)
    assert response.status_code == 201, response.json()
    assert response.json()["on_oxygen"] is True
    assert response.json()["news2"] == {
        "score": 2,
        "risk": "low",
        "parameters": {"respiratory_rate": 0, "spo2": 0, "on_oxygen": 2, "systolic_bp": 0, "heart_rate": 0,
                       "sedation": 0, "temperature_c": 0},
    }  # fmt: skip
    observation = Observation.objects.get(pk=response.json()["id"])
    assert (observation.news2_score, observation.news2_risk, observation.on_oxygen) == (2, "low", True)
    event = AuditEvent.objects.get(action="observation.charted", subject_id=str(observation.pk))
    assert (event.after["news2_score"], event.after["news2_risk"], event.after["on_oxygen"]) == (2, "low", True)
    assert "V1" in event.rules
    assert not Alert.objects.exists()  # a low score alerts nobody


def test_on_oxygen_defaults_to_air_v1(clock, ward_team, open_trial_id):
    response = chart(ward_team[0], open_trial_id, hours(0))
    assert (response.json()["on_oxygen"], response.json()["news2"]["score"]) == (False, 0)


def test_an_observation_charted_on_the_patient_carries_its_news2_v1(clock, ward_team, adult):
    body = observation_body(hours(0), **DANGEROUS)
    response = ward_team[0].post(f"/api/v1/patients/{adult.pk}/observations/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["news2"] == DANGEROUS_NEWS2


def test_the_dangerous_baseline_alerts_the_neurologists_escalated_after_10_min_v1(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    response = chart(nurse, open_trial_id, hours(0), **DANGEROUS)
    assert response.json()["news2"] == DANGEROUS_NEWS2
    alert = Alert.objects.get()
    assert (alert.kind, alert.rule, alert.severity, alert.target_role) == (
        "early_warning",
        "V1",
        "urgent",
        "neurologist",
    )
    assert alert.message.startswith("NEWS2 11 (high risk)") and "emergency team" in alert.message
    inbox = neuro.get("/api/v1/alerts/?state=open").json()["results"]
    assert [a["rule"] for a in inbox] == ["V1"]
    dispatch_due_checks(now=hours(0) + timedelta(minutes=9, seconds=59))
    alert.refresh_from_db()
    assert alert.state == "open"
    dispatch_due_checks(now=hours(0) + timedelta(minutes=10))
    alert.refresh_from_db()
    assert (alert.state, alert.escalated_at) == ("escalated", hours(0) + timedelta(minutes=10))
    assert AuditEvent.objects.filter(action="alert.escalated", subject_id=str(alert.pk)).count() == 1


@pytest.mark.parametrize(
    ("changed", "risk"),
    [({"respiratory_rate": "25"}, "low_medium"), (MEDIUM, "medium")],
)
def test_a_medium_score_or_a_3_in_one_parameter_alerts_the_neurologists_v1(clock, ward_team, open_trial_id, changed,
                                                                           risk):  # fmt: skip
    response = chart(ward_team[0], open_trial_id, hours(0), **changed)
    assert response.json()["news2"]["risk"] == risk
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.target_role) == ("early_warning", "urgent", "neurologist")


def test_no_second_alert_while_one_of_the_same_or_a_higher_risk_is_open_v1(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5), **MEDIUM)
    chart(nurse, open_trial_id, hours(-0.25), **MEDIUM)
    assert Alert.objects.count() == 1
    chart(nurse, open_trial_id, hours(0), **DANGEROUS)  # a higher risk raises a new one
    assert sorted(Alert.objects.values_list("message", flat=True))[0].startswith("NEWS2 11 (high risk)")
    assert Alert.objects.count() == 2
    chart(nurse, open_trial_id, hours(0.05), respiratory_rate="25")  # low-medium, below the open ones
    assert Alert.objects.count() == 2


def test_an_acknowledged_alert_lets_the_next_raised_score_alert_again_v1(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5), **MEDIUM)
    assert neuro.post(f"/api/v1/alerts/{Alert.objects.get().pk}/acknowledge/").status_code == 200
    chart(nurse, open_trial_id, hours(-0.25), **MEDIUM)
    assert Alert.objects.filter(state="open").count() == 1


def test_the_dangerous_baseline_refuses_the_test_dose_with_its_news2_and_writes_nothing_v2(clock, ward_team,
                                                                                          open_trial_id):  # fmt: skip
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5), **DANGEROUS)
    events = AuditEvent.objects.count()
    refused = give(nurse, open_trial_id, hours(0))
    assert refused.status_code == 409
    body = refused.json()
    assert (body["rule"], body["news2"]) == ("V2", DANGEROUS_NEWS2)
    assert "baseline NEWS2 is 11" in body["detail"] and "respiratory rate is 6/min" in body["detail"]
    nothing_given(open_trial_id, nurse)
    assert AuditEvent.objects.count() == events


def test_a_neurologists_override_lets_the_dose_go_and_is_audited_v2(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5), **DANGEROUS)
    given = give(neuro, open_trial_id, hours(0), override_reason="chronic hypoventilation, anaesthetist present")
    assert given.status_code == 201, given.json()
    dose = TestDose.objects.get()
    assert dose.predose_override_reason == "chronic hypoventilation, anaesthetist present"
    event = doses_given().get()
    assert "V2" in event.rules
    assert event.reason == "chronic hypoventilation, anaesthetist present"
    assert event.after["predose"]["overridden"] is True
    assert event.after["predose"]["news2"] == DANGEROUS_NEWS2
    assert trial_of(neuro, open_trial_id)["state"] == "observing"


def test_a_nurses_override_is_refused_v2(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5), **DANGEROUS)
    events = AuditEvent.objects.count()
    refused = give(nurse, open_trial_id, hours(0), override_reason="looks fine to me")
    assert (refused.status_code, refused.json()["rule"]) == (403, "V2")
    assert "only a neurologist" in refused.json()["detail"]
    nothing_given(open_trial_id, nurse)
    assert AuditEvent.objects.count() == events


def test_no_baseline_in_the_60_min_before_the_dose_refuses_it_v2(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(0) - timedelta(minutes=61))
    refused = give(nurse, open_trial_id, hours(0))
    assert (refused.status_code, refused.json()["rule"], refused.json()["news2"]) == (409, "V2", None)
    assert "no baseline observation was charted in the 60 min before the dose" in refused.json()["detail"]
    nothing_given(open_trial_id, nurse)


def test_a_baseline_exactly_60_min_before_the_dose_counts_v2(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-1))
    assert give(nurse, open_trial_id, hours(0)).status_code == 201


def test_an_observation_after_the_dose_time_is_no_baseline_v2(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    clock.move_to(hours(0.5))
    chart(nurse, open_trial_id, hours(0.25))
    refused = give(nurse, open_trial_id, hours(0))  # charted late: the dose was before that observation
    assert (refused.status_code, refused.json()["rule"]) == (409, "V2")
    nothing_given(open_trial_id, nurse)


def test_a_baseline_entered_in_error_does_not_count_v2(clock, ward_team, open_trial_id, nurse):
    chart(ward_team[0], open_trial_id, hours(-0.5))
    # D4 (written directly: the marking itself is not under test here)
    Observation.objects.update(entered_in_error_at=hours(-0.1), entered_in_error_by=nurse, entered_in_error_reason="x")
    refused = give(ward_team[0], open_trial_id, hours(0))
    assert (refused.status_code, refused.json()["rule"]) == (409, "V2")
    nothing_given(open_trial_id, ward_team[0])


def test_a_normal_baseline_is_recorded_with_the_dose_v2(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5))
    assert give(nurse, open_trial_id, hours(0)).status_code == 201
    predose = doses_given().get().after["predose"]
    assert (predose["baseline_at"], predose["news2"]["score"], predose["overridden"]) == (
        hours(-0.5).isoformat().replace("+00:00", "Z"), 0, False,
    )  # fmt: skip
    assert TestDose.objects.get().predose_override_reason == ""
