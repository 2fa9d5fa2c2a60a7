"""An id of another ward answers exactly like an id that does not exist: an error never reveals a record elsewhere."""

import pytest

from tests.titration.support import at, candidate_trial, implant
from titration.models import Pump
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
