from datetime import date

import pytest
import time_machine
from django.utils import timezone

from tests.titration.support import (
    PASSWORD,
    T0,
    approve,
    at,
    candidate_trial,
    implant,
    implant_fields,
    programmed,
    put_in_force,
)
from titration import services
from titration.models import DoseChange, Pump


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(api_as, nurse, neurologist):
    return api_as(nurse), api_as(neurologist)


@pytest.fixture
def spinal_adult(make_patient, ward):
    return make_patient(ward, "SPINAL-1", date_of_birth=date(1975, 4, 2), spasticity_origin="spinal")


@pytest.fixture
def running_pump(clock, team, nurse, neurologist, spinal_adult):
    """An adult spinal patient whose initial 100 mcg/day is active since T0."""
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    body = implant(neuro, spinal_adult, trial).json()
    change_id = body["initial_dose_change"]["id"]
    assert approve(neuro, change_id).status_code == 200
    assert programmed(nurse_client, change_id, at(), "100").status_code == 200
    return body["id"]


@pytest.fixture
def implanted(clock, nurse, neurologist, spinal_adult) -> Pump:
    """The same implant recorded through the service: its initial 100 mcg/day proposed, not yet signed."""
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    return services.implant_pump(
        actor=neurologist, patient=spinal_adult, screening_trial=trial, **implant_fields(trial)
    )


@pytest.fixture
def signed_initial(implanted, neurologist) -> DoseChange:
    change = implanted.dose_changes.get()
    return services.approve_dose_change(actor=neurologist, change=change, password=PASSWORD)


@pytest.fixture
def active_pump(signed_initial, nurse) -> Pump:
    """Through the services: the initial 100 mcg/day active since T0 (programmed and read back, T12)."""
    put_in_force(nurse, signed_initial, timezone.now(), "100")
    return Pump.objects.get(pk=signed_initial.pump_id)
