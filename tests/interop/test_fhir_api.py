"""The FHIR R4 API's contract: authentication and roles as the REST API, ward isolation (another ward's records
do not exist), FHIR JSON only, searches with _lastUpdated and paging, and Patient/$everything with _since."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from tests.interop.support import FHIR_JSON, T0, assert_valid_fhir, chart, entries, fhir_get, ids_of
from wardflow.staff.models import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-1")


@pytest.fixture
def other_patient(make_patient, other_ward):
    return make_patient(other_ward, "MRN-OTHER")


def test_metadata_is_served_without_credentials_as_fhir_json():
    response = fhir_get(APIClient(), "metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR_JSON)
    assert assert_valid_fhir(response.json()).resource_type == "CapabilityStatement"


def test_a_read_without_credentials_is_refused_401_with_an_operation_outcome(patient):
    response = fhir_get(APIClient(), f"Patient/patient-{patient.pk}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    outcome = assert_valid_fhir(response.json())
    assert outcome.resource_type == "OperationOutcome" and outcome.issue[0].code == "login"


def test_a_search_without_credentials_is_refused_401(patient):
    response = fhir_get(APIClient(), "Patient")
    assert response.status_code == 401
    assert "entry" not in response.json()


def test_an_invalid_token_is_refused_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert fhir_get(client, "Patient").status_code == 401


def test_a_token_reads_a_patient(api_as, nurse, patient):
    response = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == f"patient-{patient.pk}"


def test_the_web_session_reads_a_patient(nurse, patient):
    client = APIClient()
    client.force_login(nurse)
    response = fhir_get(client, f"Patient/patient-{patient.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == f"patient-{patient.pk}"


def test_an_administrator_may_not_read_patients_as_on_the_rest_api(api_as, administrator, patient):
    response = fhir_get(api_as(administrator), "Patient")
    assert response.status_code == 403
    assert assert_valid_fhir(response.json()).issue[0].code == "forbidden"
    assert api_as(administrator).get("/api/v1/patients/").status_code == 403


@pytest.mark.parametrize("accept", ["application/fhir+json", "application/json", "*/*"])
def test_json_accept_headers_are_answered_in_fhir_json(api_as, nurse, patient, accept):
    response = api_as(nurse).get(f"/fhir/R4/Patient/patient-{patient.pk}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == f"{FHIR_JSON}; charset=utf-8"


def test_a_nurse_may_not_read_audit_events_as_on_the_rest_api(api_as, nurse, neurologist):
    assert fhir_get(api_as(nurse), "AuditEvent").status_code == 403
    assert api_as(nurse).get("/api/v1/audit-events/").status_code == 403
    assert fhir_get(api_as(neurologist), "AuditEvent").status_code == 200


def test_a_path_the_api_does_not_have_is_a_fhir_404(api_as, nurse, patient):
    response = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}/_history")
    assert response.status_code == 404
    assert assert_valid_fhir(response.json()).resource_type == "OperationOutcome"


@pytest.mark.parametrize("format_", ["json", "application/fhir+json", "application/fhir%2Bjson"])
def test_format_json_overrides_the_accept_header(api_as, nurse, patient, format_):
    response = api_as(nurse).get(f"/fhir/R4/Patient/patient-{patient.pk}?_format={format_}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR_JSON)


def test_xml_is_not_served(api_as, nurse, patient):
    response = api_as(nurse).get(f"/fhir/R4/Patient/patient-{patient.pk}", HTTP_ACCEPT="application/fhir+xml")
    assert response.status_code == 406
    assert assert_valid_fhir(response.json()).resource_type == "OperationOutcome"


def test_another_wards_patient_is_not_found_on_read_as_on_the_rest_api(api_as, nurse, other_patient):
    response = fhir_get(api_as(nurse), f"Patient/patient-{other_patient.pk}")
    assert response.status_code == 404
    assert assert_valid_fhir(response.json()).issue[0].code == "not-found"
    assert api_as(nurse).get(f"/api/v1/patients/{other_patient.pk}/").status_code == 404


def test_another_wards_observation_is_not_found_on_read(api_as, nurse, make_staff, other_ward, other_patient):
    other_nurse = make_staff(Role.NURSE, other_ward)
    observation = chart(other_nurse, other_patient, T0)
    assert fhir_get(api_as(other_nurse), f"Observation/obs-{observation.pk}").status_code == 200
    assert fhir_get(api_as(nurse), f"Observation/obs-{observation.pk}").status_code == 404


def test_a_search_lists_only_the_callers_wards_patients(api_as, nurse, patient, other_patient):
    bundle = fhir_get(api_as(nurse), "Patient").json()
    assert ids_of(bundle) == {f"patient-{patient.pk}"}
    assert bundle["total"] == 1


def test_a_search_for_another_wards_patients_records_finds_none(api_as, nurse, make_staff, other_ward, other_patient):
    chart(make_staff(Role.NURSE, other_ward), other_patient, T0)
    bundle = fhir_get(api_as(nurse), "Observation", patient=f"Patient/patient-{other_patient.pk}").json()
    assert bundle["total"] == 0 and "entry" not in bundle


def test_everything_of_another_wards_patient_is_not_found(api_as, nurse, other_patient):
    response = fhir_get(api_as(nurse), f"Patient/patient-{other_patient.pk}/$everything")
    assert response.status_code == 404
    assert assert_valid_fhir(response.json()).resource_type == "OperationOutcome"


@pytest.mark.parametrize(
    "path",
    ["Patient/patient-999999", "Patient/patient-99999999999999999999", "Patient/obs-1", "Patient/not-an-id",
     "Observation/obs-1-x", "Patient/patient-99999999999999999999/$everything"],
)  # fmt: skip
def test_an_unknown_id_is_not_found(api_as, nurse, path):
    assert fhir_get(api_as(nurse), path).status_code == 404


def test_an_unknown_resource_type_is_not_found(api_as, nurse):
    response = fhir_get(api_as(nurse), "Practitioner")
    assert response.status_code == 404
    assert assert_valid_fhir(response.json()).resource_type == "OperationOutcome"


def test_an_unknown_search_parameter_is_refused_400(api_as, nurse, patient):
    response = fhir_get(api_as(nurse), "Patient", name="Test")
    assert response.status_code == 400
    assert "name" in assert_valid_fhir(response.json()).issue[0].diagnostics


@pytest.mark.parametrize("value", ["ge2026-13-01", "geyesterday", "ge2026-11-02T08:00:00"])
def test_a_bad_last_updated_date_is_refused_400(api_as, nurse, value):
    response = fhir_get(api_as(nurse), "Observation", _lastUpdated=value)
    assert response.status_code == 400
    assert assert_valid_fhir(response.json()).issue[0].code == "invalid"


def test_a_patient_is_found_by_mrn(api_as, nurse, patient, make_patient, ward):
    make_patient(ward, "MRN-2")
    assert ids_of(fhir_get(api_as(nurse), "Patient", identifier="MRN-1").json()) == {f"patient-{patient.pk}"}
    assert ids_of(fhir_get(api_as(nurse), "Patient", identifier="urn:wardflow:mrn|MRN-1").json()) == {
        f"patient-{patient.pk}"
    }


def test_observations_are_searched_by_patient(api_as, nurse, patient, make_patient, ward):
    mine, theirs = chart(nurse, patient, T0), chart(nurse, make_patient(ward, "MRN-2"), T0)
    bundle = fhir_get(api_as(nurse), "Observation", patient=f"Patient/patient-{patient.pk}").json()
    assert ids_of(bundle) == {f"obs-{mine.pk}", f"obs-{mine.pk}-news2"}
    assert bundle["total"] == 2
    assert f"obs-{theirs.pk}" not in ids_of(bundle)


def test_last_updated_prefixes_select_records_by_when_they_were_last_updated(api_as, nurse, patient):
    early, late = chart(nurse, patient, T0), chart(nurse, patient, T0 + timedelta(hours=2))
    client = api_as(nurse)
    since = fhir_get(client, "Observation", _lastUpdated="ge2026-11-02T09:00:00Z").json()
    assert ids_of(since) == {f"obs-{late.pk}", f"obs-{late.pk}-news2"}
    before = fhir_get(client, "Observation", _lastUpdated="lt2026-11-02T09:00:00+00:00").json()
    assert ids_of(before) == {f"obs-{early.pk}", f"obs-{early.pk}-news2"}
    between = client.get("/fhir/R4/Observation?_lastUpdated=gt2026-11-02T08:10:00Z&_lastUpdated=le2026-11-02").json()
    assert ids_of(between) == {f"obs-{late.pk}", f"obs-{late.pk}-news2"}
    assert fhir_get(client, "Observation", _lastUpdated="gt2026-11-02").json()["total"] == 0


def test_a_record_entered_in_error_is_updated_again_and_still_served(api_as, nurse, patient, clock):
    from screening.services import mark_observation_entered_in_error

    observation = chart(nurse, patient, T0 - timedelta(hours=1))
    clock.move_to(T0 + timedelta(days=1))
    mark_observation_entered_in_error(actor=nurse, observation=observation, reason="wrong patient")
    bundle = fhir_get(api_as(nurse), "Observation", _lastUpdated="ge2026-11-03").json()
    withdrawn = {r["id"]: r for r in entries(bundle)}[f"obs-{observation.pk}"]
    assert withdrawn["status"] == "entered-in-error"
    assert withdrawn["meta"]["lastUpdated"].startswith("2026-11-03T08:00:00")


def test_searches_are_paged_with_a_next_link(api_as, nurse, make_patient, ward):
    for number in range(3):
        make_patient(ward, f"MRN-{number}")
    client = api_as(nurse)
    first = fhir_get(client, "Patient", _count=2).json()
    assert (first["total"], len(first["entry"]), first["type"]) == (3, 2, "searchset")
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_page=2" in links["next"] and "_count=2" in links["next"]
    second = client.get(links["next"], HTTP_ACCEPT=FHIR_JSON).json()
    assert len(second["entry"]) == 1
    assert "next" not in {link["relation"] for link in second["link"]}
    assert ids_of(first).isdisjoint(ids_of(second))


def test_a_page_of_observations_brings_each_with_its_news2_and_total_counts_both(api_as, nurse, patient):
    charted = [chart(nurse, patient, T0 + timedelta(hours=h)) for h in range(3)]
    client = api_as(nurse)
    first = fhir_get(client, "Observation", _count=2).json()
    assert first["total"] == 6
    assert ids_of(first) == {f"obs-{o.pk}{suffix}" for o in charted[:2] for suffix in ("", "-news2")}
    second = fhir_get(client, "Observation", _count=2, _page=2).json()
    assert ids_of(second) == {f"obs-{charted[2].pk}", f"obs-{charted[2].pk}-news2"}
    assert "next" not in {link["relation"] for link in second["link"]}


def test_bundle_entries_carry_full_urls_and_search_mode(api_as, nurse, patient):
    entry = fhir_get(api_as(nurse), "Patient").json()["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/R4/Patient/patient-{patient.pk}"
    assert entry["search"] == {"mode": "match"}


def test_a_bad_count_is_refused_400(api_as, nurse):
    assert fhir_get(api_as(nurse), "Patient", _count="0").status_code == 400
    assert fhir_get(api_as(nurse), "Patient", _page="x").status_code == 400


def test_everything_holds_the_patient_and_their_records(api_as, nurse, patient, make_patient, ward):
    observation = chart(nurse, patient, T0)
    chart(nurse, make_patient(ward, "MRN-2"), T0)
    bundle = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}/$everything").json()
    assert_valid_fhir(bundle)
    assert ids_of(bundle) == {f"patient-{patient.pk}", f"obs-{observation.pk}", f"obs-{observation.pk}-news2"}
    assert bundle["total"] == 3


def test_everything_since_holds_only_records_updated_since(api_as, nurse, patient):
    chart(nurse, patient, T0)
    late = chart(nurse, patient, T0 + timedelta(hours=3))
    bundle = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}/$everything", _since="2026-11-02T10:00:00Z").json()
    assert ids_of(bundle) == {f"obs-{late.pk}", f"obs-{late.pk}-news2"}


def test_everything_refuses_a_bad_since_date(api_as, nurse, patient):
    response = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}/$everything", _since="2026-13-01")
    assert response.status_code == 400
    assert assert_valid_fhir(response.json()).issue[0].code == "invalid"


def test_everything_refuses_an_unknown_parameter(api_as, nurse, patient):
    response = fhir_get(api_as(nurse), f"Patient/patient-{patient.pk}/$everything", _count="5")
    assert response.status_code == 400


def test_the_api_is_read_only(api_as, nurse, patient):
    response = api_as(nurse).post("/fhir/R4/Patient", {}, format="json")
    assert response.status_code == 405
    assert assert_valid_fhir(response.json()).resource_type == "OperationOutcome"
