"""Dates, times and input (2026.2): ages on the ward's local date, and only plausible dates of birth."""

import zoneinfo
from datetime import UTC, date, datetime

import pytest
import time_machine

from wardflow.audit.models import AuditEvent
from wardflow.clinical_time import clinical_time_problem
from wardflow.patients.models import Patient

# 00:30 BST on 15 June 2026 on the ward; still 14 June in UTC, the time zone the API answers in.
WARD_BIRTHDAY_UTC_EVE = datetime(2026, 6, 14, 23, 30, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def registration(date_of_birth: str) -> dict:
    return {"mrn": "DOB-1", "given_name": "Ada", "family_name": "Lovelace", "date_of_birth": date_of_birth,
            "ward": "N3", "spasticity_origin": "spinal"}  # fmt: skip


@time_machine.travel(WARD_BIRTHDAY_UTC_EVE, tick=False)
def test_the_api_counts_age_on_the_wards_date_at_half_past_midnight_bst(api_as, nurse, make_patient, ward):
    patient = make_patient(ward, "B-18", date_of_birth=date(2008, 6, 15))
    body = api_as(nurse).get(f"/api/v1/patients/{patient.pk}/").json()
    assert (body["age_years"], body["age_band"]) == (18, "adult")


@pytest.mark.parametrize("date_of_birth", ["0001-01-01", "1899-12-31"])
def test_a_date_of_birth_before_1900_is_refused_and_writes_nothing(api_as, nurse, ward, date_of_birth):
    response = api_as(nurse).post("/api/v1/patients/", registration(date_of_birth), format="json")
    assert response.status_code == 400
    assert "1900" in response.json()["date_of_birth"][0]
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


@time_machine.travel(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), tick=False)
def test_a_clinical_time_long_before_registration_is_named_in_the_wards_local_time(make_patient, ward):
    patient = make_patient(ward, "REG-1")
    typed = datetime(2026, 5, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))  # 00:00 UTC, 01:00 BST
    problem = clinical_time_problem(typed, patient)
    assert problem.startswith("2026-05-01 01:00 is more than 30 days before the patient was registered")
