"""Implant through the HTTP API as the real roles (api.md "Pumps, programs and dose changes"; T1, T2, R1)."""

from decimal import Decimal

import pytest

from screening import services as screening
from tests.titration.support import candidate_trial, implant
from titration.models import DoseChange, Pump
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("hours", "initial"), [("6.5", "100.00"), ("10", "50.00")])
def test_implant_from_a_candidate_trial_proposes_the_t1_initial_dose(clock, team, nurse, neurologist, spinal_adult,
                                                                    hours, initial):  # fmt: skip
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult, dose_hours=hours)
    response = implant(neuro, spinal_adult, trial)
    assert response.status_code == 201, response.json()
    body = response.json()
    change = body["initial_dose_change"]
    assert (change["kind"], change["state"], change["new_daily_dose_mcg"]) == ("initial", "proposed", initial)
    assert change["previous_daily_dose_mcg"] is None
    assert body["daily_dose_mcg"] is None and body["phase"] == "titration"
    event = AuditEvent.objects.get(action="pump.implanted")
    assert Decimal(event.after["initial_daily_dose_mcg"]) == Decimal(initial)
    assert "T1" in event.rules


def test_implant_is_refused_unless_the_trial_is_a_candidate(clock, team, make_patient, ward, neurologist):
    _, neuro = team
    patient = make_patient(ward, "OPEN-1")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    response = implant(neuro, patient, trial)
    assert response.status_code == 409
    assert response.json()["rule"] == "T1"
    assert not Pump.objects.exists() and not DoseChange.objects.exists()


def test_a_non_commercial_strength_needs_a_dilution_record_t2(clock, team, nurse, neurologist, spinal_adult):
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    response = implant(neuro, spinal_adult, trial, concentration_mcg_per_ml="1000")
    assert response.status_code == 400 and "T2" in response.json()["dilution_note"][0]
    assert not Pump.objects.exists()
    dilution = "2000 mcg/mL diluted 1:1 with preservative-free NaCl 0.9%"
    response = implant(neuro, spinal_adult, trial, concentration_mcg_per_ml="1000", dilution_note=dilution)
    assert response.status_code == 201


def test_nurse_cannot_implant(clock, team, nurse, neurologist, spinal_adult):
    nurse_client, _ = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    assert implant(nurse_client, spinal_adult, trial).status_code == 403
