"""Implanted patients through the HTTP API: the registry, the pump's figures, and their observations (W1)."""

from decimal import Decimal

import pytest

from alerts.models import Alert
from tests.titration.support import approve, at, candidate_trial, implant, programmed, pump_of

pytestmark = pytest.mark.django_db


def test_withdrawal_signs_on_an_implanted_patient_raise_the_w1_alert(clock, team, running_pump, spinal_adult):
    nurse_client, _ = team
    body = {"observed_at": at().isoformat(), "ashworth_mean": "3", "penn_spasm_frequency": "3", "heart_rate": "110",
            "systolic_bp": "90", "diastolic_bp": "50", "respiratory_rate": "20", "spo2": "97", "temperature_c": "39.4",
            "sedation": "alert", "signs": ["high_fever", "rebound_spasticity"]}  # fmt: skip
    response = nurse_client.post(f"/api/v1/patients/{spinal_adult.pk}/observations/", body, format="json")
    assert response.status_code == 201, response.json()
    alert = Alert.objects.get(kind="withdrawal_signs")
    assert (alert.rule, alert.severity, alert.target_role) == ("W1", "urgent", "neurologist")


def test_registry_lists_implanted_patients_by_urgency_in_constant_queries(clock, api_as, nurse, neurologist,
                                                                         make_patient, ward,
                                                                         django_assert_max_num_queries):  # fmt: skip
    nurse_client, neuro = api_as(nurse), api_as(neurologist)
    for i, volume in enumerate(["20", "8", "14"]):
        patient = make_patient(ward, f"REG-{i}")
        trial = candidate_trial(clock, neurologist, nurse, patient)
        body = implant(neuro, patient, trial, initial_volume_ml=volume).json()
        approve(neuro, body["initial_dose_change"]["id"])
        programmed(nurse_client, body["initial_dose_change"]["id"], at(), "100")
    # token and user, role, ward ids, count, pumps (patient, ward, active program)
    with django_assert_max_num_queries(5):
        response = nurse_client.get("/api/v1/pumps/?ward=N3")
    rows = response.json()["results"]
    assert [r["mrn"] for r in rows] == ["REG-1", "REG-2", "REG-0"]
    assert rows[0]["daily_dose_mcg"] == "100.00"
    assert Decimal(rows[0]["days_to_alarm"]) == Decimal("30.0")


def test_figures_are_decimal_strings_with_the_rounding_stated(clock, team, running_pump):
    pump = pump_of(team[1], running_pump)
    for field in ["daily_dose_mcg", "rate_ml_per_day", "current_volume_ml", "days_to_alarm", "reservoir_ml"]:
        assert isinstance(pump[field], str)
    assert pump["rounding"]["days_to_alarm"].startswith("1 decimal, rounded down")
    assert pump["current_volume_ml"] == "20.00"
