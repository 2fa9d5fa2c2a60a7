"""An id of another ward answers exactly like an id that does not exist: an error never reveals a record elsewhere."""

import pytest

from tests.titration.support import (
    approve,
    at,
    candidate_trial,
    implant,
    propose,
    read_back,
    record_programming,
    refill,
)
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def test_an_implant_naming_another_wards_trial_answers_like_a_missing_trial(
    clock, make_staff, make_patient, other_ward, team, spinal_adult
):
    """T1: the implant names its screening trial; one on another ward is as unknown as one never opened."""
    elsewhere_nurse, elsewhere_neurologist = (
        make_staff(Role.NURSE, other_ward),
        make_staff(Role.NEUROLOGIST, other_ward),
    )
    hidden = candidate_trial(clock, elsewhere_neurologist, elsewhere_nurse, make_patient(other_ward, "ELSEWHERE-1"))
    _, neuro = team
    events = AuditEvent.objects.count()
    other_wards = implant(neuro, spinal_adult, hidden)
    missing = implant(neuro, spinal_adult, hidden, screening_trial=hidden.pk + 1000)
    assert other_wards.status_code == missing.status_code == 400
    assert other_wards.json()["screening_trial"] == [
        message.replace(str(hidden.pk + 1000), str(hidden.pk)) for message in missing.json()["screening_trial"]
    ]
    assert not Pump.objects.exists() and AuditEvent.objects.count() == events


def test_a_serial_recorded_on_another_ward_is_refused_in_the_same_words_as_one_on_the_own_ward(
    clock, make_staff, make_patient, implant_directly, other_ward, team, nurse, neurologist, spinal_adult
):
    """Serial numbers are unique in the hospital; the refusal does not say which ward holds the pump."""
    implant_directly(make_patient(other_ward, "ELSEWHERE-2"), make_staff(Role.NEUROLOGIST, other_ward), at(), "SN-ELSE")
    implant_directly(make_patient(spinal_adult.ward, "HERE-2"), neurologist, at(), "SN-HERE")
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    _, neuro = team
    events = AuditEvent.objects.count()
    other = implant(neuro, spinal_adult, trial, serial="SN-ELSE")
    own = implant(neuro, spinal_adult, trial, serial="SN-HERE")
    assert other.status_code == own.status_code == 400
    assert (
        other.json()["serial"]
        == own.json()["serial"]
        == ["This serial number is already recorded for a pump; check the number on the pump's label."]
    )
    assert "ELSEWHERE" not in other.content.decode() and other_ward.code not in other.content.decode()
    assert not Pump.objects.filter(patient=spinal_adult).exists() and AuditEvent.objects.count() == events


@pytest.fixture
def stranger(api_as, make_staff, other_ward):
    return api_as(make_staff(Role.NURSE, other_ward))


def test_a_refill_of_another_wards_pump_answers_like_a_missing_pump_and_writes_nothing(clock, stranger, running_pump):
    """R5: the refill names its pump; one on another ward is as unknown as one never implanted."""
    clock.move_to(at(days=20))
    filled_at, events = Pump.objects.get(pk=running_pump).filled_at, AuditEvent.objects.count()
    other_wards = refill(stranger, running_pump, at(days=20))
    missing = refill(stranger, running_pump + 1000, at(days=20))
    assert other_wards.status_code == missing.status_code == 404
    assert other_wards.json() == missing.json()
    assert not Refill.objects.exists() and Pump.objects.get(pk=running_pump).filled_at == filled_at
    assert AuditEvent.objects.count() == events


@pytest.fixture
def approved_change(clock, running_pump, team) -> int:
    """A titration to 110 mcg/day, signed and waiting to be programmed."""
    _, neuro = team
    clock.move_to(at(days=2))
    change_id = propose(neuro, running_pump, "110").json()["id"]
    assert approve(neuro, change_id).status_code == 200
    return change_id


def _refused_like_a_missing_change(entry, client, change_id) -> None:
    events = AuditEvent.objects.count()
    other_wards = entry(client, change_id, at(days=2), "110")
    missing = entry(client, change_id + 1000, at(days=2), "110")
    assert other_wards.status_code == missing.status_code == 404
    assert other_wards.json() == missing.json()
    assert AuditEvent.objects.count() == events


def test_programming_another_wards_change_answers_like_a_missing_change_and_writes_nothing(stranger, approved_change):
    """T12: the blind entry names its dose change; one on another ward is as unknown as one never proposed."""
    _refused_like_a_missing_change(record_programming, stranger, approved_change)
    assert DoseChange.objects.get(pk=approved_change).state == DoseChange.State.APPROVED


def test_reading_back_another_wards_change_answers_like_a_missing_change_and_writes_nothing(
    stranger, approved_change, team
):
    nurse_client, _ = team
    assert record_programming(nurse_client, approved_change, at(days=2), "110").status_code == 200
    _refused_like_a_missing_change(read_back, stranger, approved_change)
    assert DoseChange.objects.get(pk=approved_change).state == DoseChange.State.PROGRAMMED
