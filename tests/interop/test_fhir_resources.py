"""Patient, Device, DeviceMetric, Observation (with NEWS2), the Penn CodeSystem and the CapabilityStatement: each
validates against the library's R4 models and carries WardFlow's values under the documented codes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from interop.resources import RESOURCE_TYPES
from interop.resources.observations import PENN_SYSTEM
from screening.api import ObservationSerializer
from screening.services import mark_observation_entered_in_error
from tests.interop.support import T0, assert_valid_fhir, chart, entries, fhir_get, implanted_story, signing_staff
from titration.models import Pump

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-1", given_name="Ada", family_name="Lovelace", date_of_birth=date(1972, 12, 10))


def read(client, path: str) -> dict:
    response = fhir_get(client, path)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_valid_fhir(body)
    return body


def by_code(components: list[dict]) -> dict[str, dict]:
    return {coding["code"]: c for c in components for coding in c["code"]["coding"]}


def test_a_patient_is_identified_by_mrn_and_managed_by_their_ward(api_as, nurse, patient):
    resource = read(api_as(nurse), f"Patient/patient-{patient.pk}")
    assert resource["identifier"] == [{"use": "usual", "system": settings.FHIR_MRN_SYSTEM, "value": "MRN-1"}]
    assert resource["name"] == [{"use": "official", "family": "Lovelace", "given": ["Ada"]}]
    assert resource["birthDate"] == "1972-12-10"
    assert resource["managingOrganization"] == {"display": "Neuro 3"}
    assert resource["meta"]["lastUpdated"] == patient.created_at.isoformat()


def test_a_pump_is_a_device_with_model_serial_reservoir_and_elective_replacement_date(
    api_as, nurse, neurologist, patient, implant_directly
):
    pump = implant_directly(patient, neurologist, implanted_at=T0 - timedelta(days=10), serial="SN-42")
    Pump.objects.filter(pk=pump.pk).update(elective_replacement_at=date(2033, 5, 1))
    device = read(api_as(nurse), f"Device/pump-{pump.pk}")
    assert device["status"] == "active"
    assert device["deviceName"] == [{"name": "SynchroMed II", "type": "model-name"}]
    assert device["serialNumber"] == "SN-42"
    assert device["expirationDate"] == "2033-05-01"
    assert device["patient"] == {"reference": f"Patient/patient-{patient.pk}"}
    properties = {p["type"]["coding"][0]["code"]: p["valueQuantity"][0] for p in device["property"]}
    assert properties["reservoir-volume"] == {"value": 20, "unit": "mL", "system": "http://unitsofmeasure.org",
                                              "code": "mL"}  # fmt: skip
    assert properties["low-reservoir-alarm-volume"]["value"] == 2


def test_an_explanted_pump_is_an_inactive_device_still_served(api_as, nurse, neurologist, patient, implant_directly):
    pump = implant_directly(patient, neurologist, implanted_at=T0 - timedelta(days=10))
    Pump.objects.filter(pk=pump.pk).update(explanted_at=T0 - timedelta(days=1), explanted_by=neurologist)
    client = api_as(nurse)
    device = read(client, f"Device/pump-{pump.pk}")
    assert device["status"] == "inactive"
    assert device["meta"]["lastUpdated"] == (T0 - timedelta(days=1)).isoformat()
    assert read(client, f"DeviceMetric/pumpalarm-{pump.pk}")["operationalStatus"] == "off"


def test_the_alarm_volume_is_a_setting_device_metric_of_the_pump(api_as, nurse, neurologist, patient, implant_directly):
    pump = implant_directly(patient, neurologist, implanted_at=T0 - timedelta(days=10))
    metric = read(api_as(nurse), f"DeviceMetric/pumpalarm-{pump.pk}")
    assert metric["category"] == "setting"
    assert metric["type"]["coding"][0]["code"] == "low-reservoir-alarm-volume"
    assert metric["type"]["text"] == "Low-reservoir alarm at 2.00 mL"
    assert metric["unit"]["coding"][0]["code"] == "mL"
    assert metric["source"]["reference"] == f"Device/pump-{pump.pk}"


def test_an_observation_carries_the_vital_signs_under_their_loinc_codes(api_as, nurse, patient):
    observation = chart(nurse, patient, T0, penn="2", on_oxygen=True)
    resource = read(api_as(nurse), f"Observation/obs-{observation.pk}")
    assert resource["status"] == "final"
    assert resource["category"][0]["coding"][0]["code"] == "vital-signs"
    assert resource["effectiveDateTime"] == T0.isoformat()
    assert resource["subject"] == {"reference": f"Patient/patient-{patient.pk}"}
    components = by_code(resource["component"])
    values = {code: components[code]["valueQuantity"]["value"] for code in
              ("8867-4", "8480-6", "8462-4", "9279-1", "59408-5", "2708-6", "8310-5")}  # fmt: skip
    assert values == {"8867-4": 72, "8480-6": 124, "8462-4": 78, "9279-1": 14, "59408-5": 98, "2708-6": 98,
                      "8310-5": 36.8}  # fmt: skip
    assert components["8310-5"]["valueQuantity"]["code"] == "Cel"
    assert components["on-oxygen"]["valueBoolean"] is True


def test_ashworth_is_snomed_765771006_and_penn_a_concept_of_the_penn_code_system(api_as, nurse, patient):
    observation = chart(nurse, patient, T0, penn="2")
    components = by_code(read(api_as(nurse), f"Observation/obs-{observation.pk}")["component"])
    assert components["765771006"]["valueQuantity"]["value"] == 2
    assert components["penn-spasm-frequency"]["valueCodeableConcept"]["coding"][0] == {
        "system": PENN_SYSTEM, "code": "2", "display": "Spontaneous spasms less often than once an hour"
    }  # fmt: skip


def test_a_penn_value_between_two_scores_stays_a_number(api_as, nurse, patient):
    observation = chart(nurse, patient, T0, penn="1.5")
    components = by_code(read(api_as(nurse), f"Observation/obs-{observation.pk}")["component"])
    assert components["penn-spasm-frequency"]["valueQuantity"]["value"] == 1.5


def test_news2_is_an_observation_derived_from_the_charted_one_with_the_rest_apis_score(api_as, nurse, patient):
    observation = chart(nurse, patient, T0, respiratory_rate=Decimal("22"), on_oxygen=True)
    news2 = read(api_as(nurse), f"Observation/obs-{observation.pk}-news2")
    rest = ObservationSerializer(observation).data["news2"]
    assert news2["code"]["coding"][0] == {
        "system": SNOMED, "code": "1104051000000101",
        "display": "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
    }  # fmt: skip
    assert news2["valueInteger"] == rest["score"] == 4
    assert news2["interpretation"][0]["coding"][0]["code"] == rest["risk"]
    assert news2["derivedFrom"] == [{"reference": f"Observation/obs-{observation.pk}"}]


def test_an_observation_charted_without_a_news2_score_has_no_news2_observation(api_as, nurse, patient):
    observation = chart(nurse, patient, T0)
    type(observation).objects.filter(pk=observation.pk).update(news2_score=None, news2_risk="")
    client = api_as(nurse)
    assert fhir_get(client, f"Observation/obs-{observation.pk}-news2").status_code == 404
    assert [r["id"] for r in entries(read(client, "Observation"))] == [f"obs-{observation.pk}"]


def test_an_observation_entered_in_error_and_its_news2_say_so(api_as, nurse, patient):
    observation = chart(nurse, patient, T0 - timedelta(hours=1))
    mark_observation_entered_in_error(actor=nurse, observation=observation, reason="wrong patient")
    client = api_as(nurse)
    panel = read(client, f"Observation/obs-{observation.pk}")
    assert panel["status"] == "entered-in-error"
    assert panel["note"] == [{"text": "Entered in error (D4): wrong patient"}]
    assert read(client, f"Observation/obs-{observation.pk}-news2")["status"] == "entered-in-error"


def test_the_penn_code_system_declares_the_scores_0_to_4(api_as, nurse):
    code_system = read(api_as(nurse), "CodeSystem/penn-spasm-frequency")
    assert code_system["url"] == PENN_SYSTEM
    assert code_system["content"] == "complete"
    assert [c["code"] for c in code_system["concept"]] == ["0", "1", "2", "3", "4"]


def test_an_unknown_code_system_is_not_found(api_as, nurse):
    assert fhir_get(api_as(nurse), "CodeSystem/loinc").status_code == 404


def test_the_capability_statement_lists_every_resource_type_with_read_and_search():
    statement = read(APIClient(), "metadata")
    assert (statement["fhirVersion"], statement["format"], statement["kind"]) == ("4.0.1", ["json"], "instance")
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {*RESOURCE_TYPES, "CodeSystem"}
    for resource_type in RESOURCE_TYPES:
        assert [i["code"] for i in served[resource_type]["interaction"]] == ["read", "search-type"]
        assert "_lastUpdated" in {p["name"] for p in served[resource_type]["searchParam"]}
    assert served["Patient"]["operation"][0]["name"] == "everything"
    assert {p["name"] for p in served["Observation"]["searchParam"]} == {"_lastUpdated", "patient"}


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_every_search_answer_of_a_whole_story_validates(
    api_as, nurse, second_nurse, neurologist, ward, clock, resource_type
):
    signing_staff(nurse, second_nurse, neurologist)
    implanted_story(1, ward, nurse, second_nurse, neurologist, implanted_at=T0 - timedelta(days=20))
    bundle = fhir_get(api_as(neurologist), resource_type, _count="200").json()
    assert_valid_fhir(bundle)
    assert bundle["total"] >= 1
    assert {r["resourceType"] for r in entries(bundle)} == {resource_type}
