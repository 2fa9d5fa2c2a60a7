"""Every FHIR list costs the same number of queries whatever the number of records: what a source's resources
read beyond the row is fetched with the page (select_related / prefetch_related of its FhirSource)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interop.resources import RESOURCE_TYPES, SOURCES, sources_of_type
from tests.interop.support import T0, chart, fhir_get, implanted_story, signing_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

# The token (user, role and wards in one query), then the audit of access: the append lock and chain head read in
# one round trip, the insert, and the savepoint and its release around them (the test's transaction); and the
# patient the event names.
AUTHENTICATION, AUDIT, AUDITED_PATIENT = 1, 4, 1


def budget(sources, *, counted: bool = True) -> int:
    """Per source: the count of a paged search, the rows, one query per prefetch."""
    per_source = sum(int(counted) + 1 + len(s.prefetch_related) for s in sources)
    return AUTHENTICATION + per_source + AUDITED_PATIENT + AUDIT


@pytest.fixture
def story(nurse, second_nurse, neurologist, ward):
    """Whole patient stories (screening, implant, signed initial dose, refill) made through the services."""
    signing_staff(nurse, second_nurse, neurologist)
    made = iter(range(1, 100))

    def make():
        index = next(made)
        return implanted_story(index, ward, nurse, second_nurse, neurologist, T0 - timedelta(days=20 + index))

    return make


def queries_of(client, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = fhir_get(client, path, **params)
    assert response.status_code == 200, response.json()
    return len(queries)


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_a_search_costs_the_same_queries_for_one_patient_and_several(
    api_as, neurologist, story, django_assert_num_queries, resource_type
):
    story()
    client = api_as(neurologist)
    with_one = queries_of(client, resource_type, _count="200")
    assert with_one <= budget(sources_of_type(resource_type))
    story(), story()
    with django_assert_num_queries(with_one):
        bundle = fhir_get(client, resource_type, _count="200").json()
    assert len({entry["resource"]["id"] for entry in bundle["entry"]}) > 1


@pytest.mark.parametrize("resource_type", [t for t in RESOURCE_TYPES if t != "Patient"])
def test_a_search_by_patient_costs_the_same_queries_for_one_record_and_several(
    api_as, neurologist, nurse, story, django_assert_num_queries, resource_type
):
    patient, _ = story()
    client = api_as(neurologist)
    with_one = queries_of(client, resource_type, patient=f"Patient/patient-{patient.pk}")
    assert with_one <= budget(sources_of_type(resource_type))
    for hours in (1, 2, 3):
        chart(nurse, patient, T0 - timedelta(hours=hours))
    story()
    with django_assert_num_queries(with_one):
        assert fhir_get(client, resource_type, patient=f"Patient/patient-{patient.pk}").status_code == 200


def test_a_read_costs_a_constant_number_of_queries(api_as, nurse, story, django_assert_max_num_queries):
    patient, _ = story()
    observation = chart(nurse, patient, T0 - timedelta(hours=1))
    client = api_as(nurse)
    with django_assert_max_num_queries(AUTHENTICATION + 1 + AUDITED_PATIENT + AUDIT):
        assert fhir_get(client, f"Observation/obs-{observation.pk}").status_code == 200


def test_everything_costs_the_same_queries_for_few_records_and_many(
    api_as, neurologist, nurse, story, django_assert_num_queries
):
    patient, _ = story()
    client = api_as(neurologist)
    path = f"Patient/patient-{patient.pk}/$everything"
    with_few = queries_of(client, path)
    # The patient's own row is found before the sources are read; $everything is not paged (no counts).
    assert with_few <= 1 + budget(SOURCES, counted=False)
    for hours in (1, 2, 3):
        chart(nurse, patient, T0 - timedelta(hours=hours))
    story()
    with django_assert_num_queries(with_few):
        bundle = fhir_get(client, path).json()
    assert bundle["total"] == len(bundle["entry"])
