"""Input the database or the JSON parser cannot take answers 400 naming the problem, never 500, and writes nothing."""

from datetime import UTC, datetime

import pytest
import time_machine

from screening import services as screening
from screening.models import TestDose
from wardflow.audit.models import AuditEvent
from wardflow.patients.models import Patient

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PATIENT = {"mrn": "MRN-NUL", "given_name": "Ann", "family_name": "Lee", "date_of_birth": "1980-01-01",
           "spasticity_origin": "spinal"}  # fmt: skip
DOSE = {"administered_at": "2026-11-27T11:00:00Z", "dose_mcg": "50", "volume_ml": "1", "lot": "L1",
        "route": "lumbar_puncture", "resuscitation_ready": True}  # fmt: skip

pytestmark = pytest.mark.django_db


def nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def test_a_nul_character_in_the_ward_answers_400_naming_the_field(api_as, nurse, ward):
    response = api_as(nurse).post("/api/v1/patients/", {**PATIENT, "ward": "N\x003"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["ward"]
    assert not Patient.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_injection_seconds_beyond_what_the_record_can_hold_answers_400_naming_the_field(
    api_as, nurse, neurologist, ward, make_patient
):
    trial = screening.open_trial(actor=neurologist, patient=make_patient(ward, "T-1"))
    events = AuditEvent.objects.count()
    response = api_as(nurse).post(f"/api/v1/screening-trials/{trial.pk}/doses/",
                                  {**DOSE, "injection_seconds": 2**31}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert list(response.json()) == ["injection_seconds"]
    assert not TestDose.objects.exists()
    assert AuditEvent.objects.count() == events


def test_deeply_nested_json_answers_400_to_a_signed_in_nurse(api_as, nurse, ward):
    response = api_as(nurse).post("/api/v1/patients/", nested(100_000), content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not Patient.objects.exists()


def test_deeply_nested_json_answers_400_without_credentials(api_as):
    response = api_as(None).post("/api/v1/auth/token/", nested(100_000), content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert "token" not in response.json()


@pytest.mark.django_db
def test_an_impossible_utc_offset_is_refused_naming_the_field_not_a_server_error(api_as, administrator, nurse, ward):
    """Python parses an offset up to 24 h; PostgreSQL holds at most 15:59: the API refuses what no clock shows."""
    listed = api_as(administrator).get("/api/v1/audit-events/", {"since": "2120-03-17T06:27:12-18:37"})
    assert listed.status_code == 400 and "since" in listed.json()
    exported = api_as(administrator).get(
        "/api/v1/audit-events/", {"since": "2120-03-17T06:27:12-18:37", "format": "csv"}
    )
    assert exported.status_code == 400
