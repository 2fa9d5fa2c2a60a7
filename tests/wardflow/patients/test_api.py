from datetime import date

import pytest
import time_machine

from wardflow.audit.models import AuditEvent
from wardflow.patients.models import Patient
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def patient_body(**overrides):
    body = {
        "mrn": "MRN-1001",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1990-05-17",
        "ward": "N3",
        "spasticity_origin": "spinal",
    }
    body.update(overrides)
    return body


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-7", spasticity_origin="cerebral")


@pytest.fixture
def elsewhere(make_patient, other_ward):
    return make_patient(other_ward, "MRN-8")


@time_machine.travel("2026-11-26 10:00:00+00:00", tick=False)
def test_nurse_registers_a_patient_with_derived_fields(api_as, nurse):
    response = api_as(nurse).post(
        "/api/v1/patients/",
        patient_body(date_of_birth="2010-11-27", weight_kg="38.5", sci_t6_or_above=True, renal_impairment=True),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["age_years"] == 15
    assert body["age_band"] == "pediatric"
    assert body["high_withdrawal_risk"] is True
    assert body["weight_kg"] == "38.5"
    assert body["ward"] == "N3"
    assert [c[:3] for c in body["cautions"]] == ["P5:"]


def test_registration_is_audited_with_the_record(api_as, neurologist):
    response = api_as(neurologist).post(
        "/api/v1/patients/", patient_body(oral_antispasmodics="oral baclofen 20 mg tds"), format="json"
    )
    event = AuditEvent.objects.get(action="patient.registered")
    assert event.patient_id == response.json()["id"]
    assert event.actor == neurologist and event.role == "neurologist"
    assert event.after["mrn"] == "MRN-1001"
    assert event.rules == ["P3"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "2999-01-01"),
        ("spasticity_origin", "muscular"),
        ("ward", "NOPE"),
        ("mrn", ""),
        ("weight_kg", "-3"),
    ],
)
def test_invalid_registration_names_the_field_and_writes_nothing(api_as, nurse, field, value):
    response = api_as(nurse).post("/api/v1/patients/", patient_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_duplicate_mrn_is_refused(api_as, nurse, patient):
    response = api_as(nurse).post("/api/v1/patients/", patient_body(mrn="MRN-7"), format="json")
    assert response.status_code == 400
    assert "mrn" in response.json()
    assert Patient.objects.count() == 1


def test_an_mrn_held_on_another_ward_is_refused_in_the_same_words_as_one_on_the_own_ward(
    api_as, nurse, patient, elsewhere
):
    """The MRN is unique in the hospital; the refusal names neither the ward nor the patient that holds it."""
    client = api_as(nurse)
    own = client.post("/api/v1/patients/", patient_body(mrn=patient.mrn), format="json")
    other = client.post("/api/v1/patients/", patient_body(mrn=elsewhere.mrn), format="json")
    assert own.status_code == other.status_code == 400
    assert (
        own.json()
        == other.json()
        == {"mrn": ["This MRN is already registered; a patient is registered once. Check the number."]}
    )
    assert elsewhere.family_name not in other.content.decode() and elsewhere.ward.code not in other.content.decode()
    assert Patient.objects.count() == 2 and not AuditEvent.objects.filter(action="patient.registered").exists()


def test_nurse_cannot_register_on_a_ward_not_theirs(api_as, nurse, other_ward):
    response = api_as(nurse).post("/api/v1/patients/", patient_body(ward="R1"), format="json")
    assert response.status_code == 400
    assert "R1" in response.json()["ward"][0]
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", [Role.NURSE, Role.NEUROLOGIST])
def test_patient_on_another_ward_answers_404_like_a_missing_one(api_as, make_staff, ward, elsewhere, role):
    client = api_as(make_staff(role, ward))
    hidden = client.get(f"/api/v1/patients/{elsewhere.pk}/")
    missing = client.get("/api/v1/patients/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert (
        client.patch(f"/api/v1/patients/{elsewhere.pk}/", {"active_infection": True}, format="json").status_code == 404
    )
    elsewhere.refresh_from_db()
    assert elsewhere.active_infection is False


def test_list_shows_only_the_callers_wards(api_as, nurse, patient, elsewhere):
    response = api_as(nurse).get("/api/v1/patients/")
    assert [p["mrn"] for p in response.json()["results"]] == ["MRN-7"]


def test_staff_on_two_wards_sees_both(api_as, make_staff, ward, other_ward, patient, elsewhere):
    response = api_as(make_staff(Role.NEUROLOGIST, ward, other_ward)).get("/api/v1/patients/")
    assert sorted(p["mrn"] for p in response.json()["results"]) == ["MRN-7", "MRN-8"]


def test_administrator_may_not_read_or_register_patients(api_as, administrator, patient):
    client = api_as(administrator)
    assert client.get("/api/v1/patients/").status_code == 403
    assert client.get(f"/api/v1/patients/{patient.pk}/").status_code == 403
    assert client.post("/api/v1/patients/", patient_body(), format="json").status_code == 403


def test_charting_an_infection_is_audited_with_before_and_after_p1(api_as, nurse, patient):
    response = api_as(nurse).patch(
        f"/api/v1/patients/{patient.pk}/", {"active_infection": True, "reason": "UTI, cultures sent"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["active_infection"] is True
    event = AuditEvent.objects.get(action="patient.flags_changed")
    assert event.before == {"active_infection": False}
    assert event.after == {"active_infection": True}
    assert event.rules == ["P1"]
    assert event.reason == "UTI, cultures sent"


def test_withdrawal_risk_flag_makes_patient_high_risk_p4(api_as, nurse, patient):
    response = api_as(nurse).patch(
        f"/api/v1/patients/{patient.pk}/", {"communication_difficulties": True}, format="json"
    )
    assert response.json()["high_withdrawal_risk"] is True
    assert AuditEvent.objects.get(action="patient.flags_changed").rules == ["P4"]


def test_patch_without_a_change_writes_no_event(api_as, nurse, patient):
    response = api_as(nurse).patch(f"/api/v1/patients/{patient.pk}/", {"active_infection": False}, format="json")
    assert response.status_code == 200
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("field", ["mrn", "date_of_birth", "ward", "age_band"])
def test_identity_fields_cannot_be_patched(api_as, nurse, patient, field):
    response = api_as(nurse).patch(
        f"/api/v1/patients/{patient.pk}/", {field: "x", "active_infection": True}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    patient.refresh_from_db()
    assert patient.active_infection is False
    assert not AuditEvent.objects.exists()


def test_patient_list_costs_constant_queries(api_as, nurse, ward, django_assert_max_num_queries):
    Patient.objects.bulk_create(
        Patient(
            mrn=f"M{i}",
            given_name="P",
            family_name=f"F{i}",
            date_of_birth=date(1960 + i, 1, 1),
            ward=ward,
            spasticity_origin="spinal",
        )
        for i in range(40)
    )
    client = api_as(nurse)
    # token and user, role, ward ids, count, page (wards joined): whatever the number of patients
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/patients/")
    assert response.json()["count"] == 40
