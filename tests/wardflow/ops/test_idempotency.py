"""api.md conventions: a repeated POST with the same Idempotency-Key and body returns the first response."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from wardflow.audit.models import AuditEvent
from wardflow.ops.idempotency import purge_expired
from wardflow.ops.models import IdempotencyKey
from wardflow.patients.models import Patient

pytestmark = pytest.mark.django_db

BODY = {
    "mrn": "MRN-1",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth": "1990-05-17",
    "ward": "N3",
    "spasticity_origin": "spinal",
}


def post(client, body, key="tablet-7f3a"):
    return client.post("/api/v1/patients/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_returns_the_first_response_and_creates_nothing(api_as, nurse):
    client = api_as(nurse)
    first = post(client, BODY)
    again = post(client, BODY)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.filter(action="patient.registered").count() == 1


def test_same_key_with_a_different_body_answers_409(api_as, nurse):
    client = api_as(nurse)
    post(client, BODY)
    response = post(client, {**BODY, "mrn": "MRN-2"})
    assert response.status_code == 409
    assert response.json()["rule"] == "idempotency"
    assert list(Patient.objects.values_list("mrn", flat=True)) == ["MRN-1"]


def test_keys_are_per_user(api_as, nurse, neurologist):
    post(api_as(nurse), BODY)
    response = post(api_as(neurologist), {**BODY, "mrn": "MRN-2"})
    assert response.status_code == 201
    assert Patient.objects.count() == 2


def test_a_refused_request_can_be_corrected_under_the_same_key(api_as, nurse):
    client = api_as(nurse)
    refused = post(client, {**BODY, "spasticity_origin": "unknown"})
    assert refused.status_code == 400
    accepted = post(client, BODY)
    assert accepted.status_code == 201
    assert Patient.objects.count() == 1


def test_without_a_key_each_post_is_new(api_as, nurse):
    client = api_as(nurse)
    client.post("/api/v1/patients/", BODY, format="json")
    second = client.post("/api/v1/patients/", BODY, format="json")
    assert second.status_code == 400  # same MRN: the second request was processed, not replayed


def test_keys_are_kept_for_a_day_then_purged(api_as, nurse):
    post(api_as(nurse), BODY)
    assert purge_expired(now=timezone.now() + timedelta(hours=24)) == 0
    assert purge_expired(now=timezone.now() + timedelta(hours=49)) == 1
    assert not IdempotencyKey.objects.exists()


def test_replay_works_after_a_day(api_as, nurse):
    client = api_as(nurse)
    first = post(client, BODY)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        again = post(client, BODY)
    assert again.json() == first.json()
    assert Patient.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_patient_and_answer_alike(allow_audit_flush, api_as, make_staff, ward):
    import threading

    from django.db import connections

    from wardflow.staff.models import Role

    nurse = make_staff(Role.NURSE, ward)
    barrier = threading.Barrier(3)
    responses = []

    def send():
        client = api_as(nurse)
        barrier.wait()
        try:
            responses.append(post(client, BODY, key="tablet-retry-storm"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.filter(action="patient.registered").count() == 1
