"""Audit of access (D1): every FHIR answer that discloses patient records writes one event naming the reader, the
patient, the resource type, the query and how many resources it held; a refused or empty answer writes none."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from interop.kinds import AuditAction
from tests.interop.support import T0, chart, entries, fhir_get
from wardflow.audit.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-1")


def reads():
    return AuditEvent.objects.filter(action=AuditAction.RECORDS_READ)


def test_reading_a_patient_writes_one_event_naming_the_reader_and_the_patient(api_as, nurse, patient):
    assert fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}").status_code == 200
    (event,) = reads()
    assert (event.actor, event.role, event.patient, event.rules) == (nurse, "nurse", patient, ["D1"])
    assert event.after == {"resource_type": "Patient", "query": f"/fhir/R4/Patient/patient-{patient.pk}", "count": 1}


def test_reading_an_observation_names_its_patient(api_as, nurse, patient):
    observation = chart(nurse, patient, T0 - timedelta(hours=1))
    fhir_get(api_as(nurse), f"Observation/obs-{observation.pk}-news2")
    (event,) = reads()
    assert event.patient == patient
    assert event.after["resource_type"] == "Observation"


def test_a_search_by_patient_writes_one_event_with_the_query_and_count(api_as, nurse, patient):
    chart(nurse, patient, T0 - timedelta(hours=2))
    chart(nurse, patient, T0 - timedelta(hours=1))
    bundle = fhir_get(api_as(nurse), "Observation", patient=f"patient-{patient.pk}", _count="10").json()
    assert len(entries(bundle)) == 4  # two observations, each with its NEWS2
    (event,) = reads()
    assert event.patient == patient
    assert event.after == {"resource_type": "Observation", "count": 4,
                           "query": f"/fhir/R4/Observation?patient=patient-{patient.pk}&_count=10"}  # fmt: skip


def test_a_search_across_patients_lists_the_patients_disclosed(api_as, nurse, patient, make_patient, ward):
    other = make_patient(ward, "MRN-2")
    fhir_get(api_as(nurse), "Patient")
    (event,) = reads()
    assert event.patient is None
    assert event.after["patients"] == sorted([patient.pk, other.pk])
    assert event.after["count"] == 2


def test_everything_writes_one_event_counting_every_resource(api_as, nurse, patient):
    chart(nurse, patient, T0 - timedelta(hours=1))
    bundle = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}/$everything").json()
    (event,) = reads()
    assert event.patient == patient
    assert (event.after["resource_type"], event.after["count"]) == ("Patient/$everything", len(bundle["entry"]))


def test_a_read_without_credentials_writes_no_event(patient):
    assert fhir_get(APIClient(), f"Patient/patient-{patient.pk}").status_code == 401
    assert not reads().exists()


def test_a_read_of_another_wards_patient_writes_no_event(api_as, nurse, make_patient, other_ward):
    other = make_patient(other_ward, "MRN-OTHER")
    assert fhir_get(api_as(nurse), f"Patient/patient-{other.pk}").status_code == 404
    assert not reads().exists()


def test_a_refused_role_writes_no_event(api_as, administrator, patient):
    assert fhir_get(api_as(administrator), "Patient").status_code == 403
    assert not reads().exists()


def test_a_search_that_finds_nothing_writes_no_event(api_as, nurse, patient):
    assert fhir_get(api_as(nurse), "Observation", patient=f"patient-{patient.pk}").json()["total"] == 0
    assert not reads().exists()


def test_metadata_and_the_code_system_write_no_event(api_as, nurse):
    fhir_get(APIClient(), "metadata")
    fhir_get(api_as(nurse), "CodeSystem/penn-spasm-frequency")
    assert not reads().exists()
