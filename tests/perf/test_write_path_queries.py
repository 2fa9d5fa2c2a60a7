"""The clinical writes cost a fixed, small number of queries: the token, its user's role and wards in one, and the
audit append in two round trips (D2). Counted inside the test's transaction, so each atomic block adds its
savepoint and release."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connections, transaction

from alerts.models import DueCheck
from screening.kinds import CheckKind
from screening.models import Observation
from tests.screening import support as screening
from tests.support import a_lock_is_awaited
from tests.titration.support import (
    T0,
    approve,
    at,
    candidate_trial,
    implant,
    programmed,
    propose,
    read_back,
    record_programming,
    refill,
    token_client,
    ward_reader,
)
from titration.kinds import CheckKind as TitrationCheckKind
from titration.models import DoseChange
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain
from wardflow.audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(api_as, nurse, neurologist):
    return api_as(nurse), api_as(neurologist)


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "PERF-1")


@pytest.fixture
def running_pump(clock, team, nurse, neurologist, patient):
    """A patient whose initial 100 mcg/day is active since T0."""
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, patient)
    body = implant(neuro, patient, trial).json()
    change_id = body["initial_dose_change"]["id"]
    assert approve(neuro, change_id).status_code == 200
    assert programmed(nurse_client, change_id, at(), "100").status_code == 200
    return body["id"]


def test_charting_an_observation_without_trial_or_due_slot(clock, team, patient, django_assert_max_num_queries):
    """Token with role and wards, patient, trial look-up, the insert with the due slots and overdue alerts in one
    statement, audit append in two: no pump or alert look-up for signs and a NEWS2 that call for no alert."""
    nurse_client, _ = team
    with django_assert_max_num_queries(8):
        response = nurse_client.post(
            f"/api/v1/patients/{patient.pk}/observations/", screening.observation_body(T0), format="json"
        )
    assert response.status_code == 201
    assert Observation.objects.filter(patient=patient, trial=None).count() == 1


def test_charting_an_observation_due_after_a_test_dose(clock, team, patient, django_assert_max_num_queries):
    nurse_client, neuro = team
    trial_id = screening.open_trial(neuro, patient).json()["id"]
    screening.chart(nurse_client, trial_id, T0 - timedelta(minutes=30))
    assert screening.give(nurse_client, trial_id, T0).status_code == 201
    slot = T0 + timedelta(hours=1)
    clock.move_to(slot)
    pending = DueCheck.objects.filter(kind=CheckKind.OBSERVATION_OVERDUE, state=DueCheck.State.PENDING)
    slots_before = pending.count()
    with django_assert_max_num_queries(9):
        response = nurse_client.post(
            f"/api/v1/patients/{patient.pk}/observations/", screening.observation_body(slot), format="json"
        )
    assert response.status_code == 201 and response.json()["trial"] == trial_id
    assert pending.count() == slots_before - 1  # A1: the slot it fills is closed


def test_giving_a_test_dose(clock, team, patient, django_assert_max_num_queries):
    nurse_client, neuro = team
    trial_id = screening.open_trial(neuro, patient).json()["id"]
    screening.chart(nurse_client, trial_id, T0 - timedelta(minutes=30))
    with django_assert_max_num_queries(13):
        response = screening.give(nurse_client, trial_id, T0)
    assert response.status_code == 201
    assert DueCheck.objects.filter(kind=CheckKind.OBSERVATION_OVERDUE, state=DueCheck.State.PENDING).exists()


def test_proposing_a_dose_change(clock, team, running_pump, django_assert_max_num_queries):
    nurse_client, _ = team
    clock.move_to(at(hours=2))
    with django_assert_max_num_queries(12):
        response = propose(nurse_client, running_pump, "120")
    assert response.status_code == 201


def test_approving_a_dose_change(clock, team, running_pump, django_assert_max_num_queries):
    nurse_client, neuro = team
    clock.move_to(at(hours=2))
    change_id = propose(nurse_client, running_pump, "120").json()["id"]
    with django_assert_max_num_queries(14):  # D5: the signing session is not marked again once it is
        response = approve(neuro, change_id)
    assert response.status_code == 200


def test_programming_a_dose_change_and_reading_it_back(clock, team, running_pump, django_assert_max_num_queries):
    nurse_client, neuro = team
    clock.move_to(at(hours=2))
    change_id = propose(nurse_client, running_pump, "120").json()["id"]
    assert approve(neuro, change_id).status_code == 200
    when = at(days=1)
    clock.move_to(when)
    with django_assert_max_num_queries(9):
        programming = record_programming(nurse_client, change_id, when, "120")
    assert programming.status_code == 200
    reader = token_client(ward_reader(DoseChange.objects.get(pk=change_id)))
    with django_assert_max_num_queries(14):
        reading = read_back(reader, change_id, when, "120")
    assert reading.status_code == 200 and reading.json()["state"] == DoseChange.State.ACTIVE
    assert DueCheck.objects.filter(kind=TitrationCheckKind.REFILL_REMINDER, state=DueCheck.State.PENDING).exists()
    # T3: the previous step's check gave way to this change's, in the statements the refill schedule takes.
    steps = DueCheck.objects.filter(kind=TitrationCheckKind.TITRATION_STEP_DUE, state=DueCheck.State.PENDING)
    assert [check.payload["after_change"] for check in steps] == [change_id]


def test_refilling_a_pump(clock, team, running_pump, django_assert_max_num_queries):
    nurse_client, _ = team
    clock.move_to(at(days=20))
    # The answer's history: the dose changes read under the lock, the refills in the refill's insert, who acted on
    # each joined.
    with django_assert_max_num_queries(16):
        response = refill(nurse_client, running_pump, at(days=20))
    assert response.status_code == 201
    assert DueCheck.objects.filter(kind=TitrationCheckKind.REFILL_REMINDER, state=DueCheck.State.PENDING).exists()
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_an_append_waiting_for_the_chain_links_to_the_event_committed_meanwhile(allow_audit_flush):
    """D2: the chain's lock and its head are read in one round trip, yet the head is the one committed by the append
    that held the lock: the waiting append neither forks the chain nor reads the head as it was before its wait."""
    linked = {}

    def second_append():
        try:
            with transaction.atomic():
                linked["prev_hash"] = record_event(actor=None, action="test.second").prev_hash
        finally:
            connections.close_all()

    with transaction.atomic():
        first = record_event(actor=None, action="test.first")
        waiting = threading.Thread(target=second_append)
        waiting.start()
        if not a_lock_is_awaited("advisory"):  # until the second append waits for the chain's lock
            pytest.fail("the second append never waited for the chain's lock")
    waiting.join()
    assert linked["prev_hash"] == first.hash
    assert AuditEvent.objects.filter(prev_hash=first.hash).count() == 1
    assert verify_chain().ok
