"""Charting observations through the HTTP API: S5 bounds, and the signs that alert or suspend (S10, W1, O1)."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Alert
from screening.models import Observation, ScreeningTrial
from tests.screening.support import T0, assess, chart, give, hours, observation_body, trial_of
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ashworth": "4.5"}, "ashworth_mean"),
        ({"penn": "5"}, "penn_spasm_frequency"),
        ({"spo2": "101"}, "spo2"),
        ({"heart_rate": "400"}, "heart_rate"),
        ({"temperature_c": "50"}, "temperature_c"),
        ({"signs": ["sneezing"]}, "signs"),
        ({"sedation": "asleep"}, "sedation"),
        ({"at": T0 + timedelta(minutes=6)}, "observed_at"),
    ],
)
def test_invalid_observation_is_refused_and_nothing_written(ward_team, open_trial_id, overrides, field):
    before = AuditEvent.objects.count()
    at = overrides.pop("at", hours(0))
    mapped = {"ashworth": "ashworth", "penn": "penn"}
    kwargs = {mapped.get(k, k): v for k, v in overrides.items()}
    response = chart(ward_team[0], open_trial_id, at, **kwargs)
    assert response.status_code == 400
    assert field in response.json()
    assert not Observation.objects.exists()
    assert AuditEvent.objects.count() == before


def test_serious_adverse_event_suspends_the_trial_and_raises_an_urgent_alert_s10(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    give(nurse, open_trial_id, hours(0))
    clock.move_to(hours(2))
    response = chart(nurse, open_trial_id, hours(2), signs=["respiratory_depression"], respiratory_rate="6")
    assert response.status_code == 201
    assert trial_of(neuro, open_trial_id)["state"] == "suspended"
    alert = Alert.objects.get(kind="serious_adverse_event")
    assert (alert.severity, alert.rule, alert.target_role) == ("urgent", "S10", "neurologist")
    assert set(AuditEvent.objects.get(action="observation.charted", after__signs=["respiratory_depression"]).rules) == {
        "S5", "S10", "V1",
    }  # fmt: skip
    inbox = neuro.get("/api/v1/alerts/?state=open").json()["results"]
    assert sorted(a["rule"] for a in inbox) == ["S10", "V1"]  # V1: a respiratory rate of 6 scores 3


def test_withdrawal_signs_with_a_pump_in_place_raise_an_urgent_alert_with_guidance_w1(clock, ward_team,
                                                                                      implanted_adult):  # fmt: skip
    nurse, _ = ward_team
    body = observation_body(hours(0), signs=["pruritus", "high_fever"], temperature_c="39.2")
    response = nurse.post(f"/api/v1/patients/{implanted_adult.pk}/observations/", body, format="json")
    assert response.status_code == 201, response.json()
    alert = Alert.objects.get()
    assert (alert.severity, alert.rule, alert.kind) == ("urgent", "W1", "withdrawal_signs")
    assert "oral baclofen alone" in alert.message


def test_withdrawal_list_signs_after_a_test_bolus_warn_the_neurologists_w1(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    give(nurse, open_trial_id, hours(0))
    clock.move_to(hours(2))
    assert chart(nurse, open_trial_id, hours(2), signs=["hypotension"], systolic_bp="86").status_code == 201
    inbox = [a for a in neuro.get("/api/v1/alerts/?state=open").json()["results"] if a["rule"] == "W1"]
    assert [(a["kind"], a["severity"], a["rule"]) for a in inbox] == [("bolus_adverse_effect", "warning", "W1")]
    assert "restore intrathecal delivery" not in inbox[0]["message"].lower()
    assert not Alert.objects.filter(kind="withdrawal_signs").exists()


def test_overdose_signs_raise_an_urgent_alert_o1(clock, ward_team, open_trial_id):
    chart(ward_team[0], open_trial_id, hours(0), signs=["somnolence"], sedation="drowsy")
    alert = Alert.objects.get(rule="O1")
    assert (alert.rule, alert.kind) == ("O1", "overdose_signs")
    assert ScreeningTrial.objects.get().state == "awaiting_dose"


def test_coma_suspends_the_trial_with_guidance_for_a_patient_without_a_pump_s10(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    give(nurse, open_trial_id, hours(0))
    clock.move_to(hours(3))
    response = chart(nurse, open_trial_id, hours(3), signs=["coma"], sedation="unrousable")
    assert response.status_code == 201
    assert trial_of(neuro, open_trial_id)["state"] == "suspended"
    [alert] = [a for a in neuro.get("/api/v1/alerts/?state=open").json()["results"] if a["rule"] == "S10"]
    assert (alert["kind"], alert["severity"], alert["rule"]) == ("serious_adverse_event", "urgent", "S10")
    assert "emergency team" in alert["message"] and "reservoir" not in alert["message"]


def test_an_observation_dated_in_year_1_is_refused_and_nothing_written(ward_team, open_trial_id):
    before = AuditEvent.objects.count()
    response = chart(ward_team[0], open_trial_id, datetime(1, 1, 1, 12, 0, tzinfo=UTC))
    assert response.status_code == 400
    assert "before the patient was registered" in response.json()["observed_at"][0]
    assert not Observation.objects.exists()
    assert AuditEvent.objects.count() == before


def test_an_observation_charted_on_the_patient_belongs_to_the_open_trial(clock, ward_team, open_trial_id, adult):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline Ashworth 3
    dose_id = give(nurse, open_trial_id, hours(0)).json()["id"]
    clock.move_to(hours(4.1))
    response = nurse.post(f"/api/v1/patients/{adult.pk}/observations/", observation_body(hours(4), ashworth="1.5"),
                          format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["trial"] == open_trial_id
    assert trial_of(neuro, open_trial_id)["suggestion"]["response"] == "positive"  # S7: it is in the 4-8 h window
    assert assess(neuro, dose_id, "positive", duration_hours="4").status_code == 201  # S6: a 4 h observation exists


def test_an_observation_charted_late_takes_its_optional_reason_a1(clock, ward_team, open_trial_id):
    nurse = ward_team[0]
    clock.move_to(hours(2))
    response = chart(nurse, open_trial_id, hours(0), late_reason="Handover on the ward")
    assert response.status_code == 201
    assert response.json()["late_reason"] == "Handover on the ward"
    assert Observation.objects.get().late_reason == "Handover on the ward"
    assert chart(nurse, open_trial_id, hours(1)).json()["late_reason"] == ""
