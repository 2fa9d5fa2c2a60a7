from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from screening import services
from screening.models import ScreeningTrial, TestDose
from tests.screening.support import T0, chart, chart_on, give, give_dose, hours, open_trial
from titration.models import Pump
from wardflow import protocol
from wardflow.protocol import TrialState


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def adult(make_patient, ward):
    return make_patient(ward, "ADULT-1", date_of_birth=date(1980, 3, 1))


@pytest.fixture
def child(make_patient, ward):
    return make_patient(ward, "CHILD-1", date_of_birth=date(2016, 5, 1), spasticity_origin="cerebral")


@pytest.fixture
def toddler(make_patient, ward):
    return make_patient(ward, "TODDLER-1", date_of_birth=date(2024, 1, 1), spasticity_origin="cerebral")


@pytest.fixture
def implanted_adult(adult, neurologist, implant_directly):
    """An adult whose earlier screening led to an implant 30 days ago (written directly: titration is not under test
    here)."""
    implant_directly(adult, neurologist, implanted_at=T0 - timedelta(days=30))
    return adult


@pytest.fixture
def explanted_adult(implanted_adult, neurologist):
    """The implanted adult, their pump explanted 15 days before T0 (one more than W1's policy window)."""
    Pump.objects.filter(patient=implanted_adult).update(
        explanted_at=T0 - timedelta(days=15), explant_reason="pocket infection", explanted_by=neurologist
    )
    return implanted_adult


def decided_trial(patient, neurologist, state: TrialState, doses: int) -> ScreeningTrial:
    """A trial that ended in `state` before this test (written directly): its last dose given 6 h before T0, each
    earlier one 24 h before the next, and the decision taken an hour before T0."""
    last_at = T0 - timedelta(hours=6)
    trial = ScreeningTrial.objects.create(patient=patient, state=state, first_dose_mcg=Decimal("50"),
                                          opened_by=neurologist, opened_at=last_at - timedelta(days=doses),
                                          closed_at=T0 - timedelta(hours=1))  # fmt: skip
    for number in range(1, doses + 1):
        mcg = protocol.ladder_dose_mcg(number)
        TestDose.objects.create(trial=trial, number=number, dose_mcg=mcg, volume_ml=protocol.ladder_volume_ml(mcg),
                                administered_at=last_at - timedelta(days=doses - number), lot="L2610-C",
                                route="lumbar_puncture", injection_seconds=90, resuscitation_ready=True,
                                given_by=neurologist)  # fmt: skip
    return trial


@pytest.fixture
def not_candidate_adult(clock, adult, neurologist):
    """An adult whose trial ended not_candidate: 50, 75 and 100 mcg inadequate, the 100 mcg dose 6 h before T0."""
    decided_trial(adult, neurologist, TrialState.NOT_CANDIDATE, doses=3)
    return adult


@pytest.fixture
def candidate_adult(clock, adult, neurologist):
    """An adult whose trial ended candidate on its 50 mcg dose, 6 h before T0, and who has no pump yet."""
    decided_trial(adult, neurologist, TrialState.CANDIDATE, doses=1)
    return adult


@pytest.fixture
def ward_team(api_as, nurse, neurologist):
    return api_as(nurse), api_as(neurologist)


@pytest.fixture
def open_trial_id(clock, ward_team, adult):
    return open_trial(ward_team[1], adult).json()["id"]


@pytest.fixture
def observed_dose(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5))
    dose_id = give(nurse, open_trial_id, hours(0)).json()["id"]
    for h in (1, 2, 3):
        chart(nurse, open_trial_id, hours(h))
    clock.move_to(hours(3.5))
    return dose_id


# --- for the services' own tests ---------------------------------------------------------------------------------


@pytest.fixture
def trial(clock, adult, neurologist):
    """An adult's trial, opened by the service, awaiting test dose 1."""
    return services.open_trial(actor=neurologist, patient=adult)


@pytest.fixture
def dose(clock, trial, nurse):
    """Test dose 1 given at T0 after a baseline observation, the clock at T0."""
    chart_on(nurse, trial.patient, hours(-0.5), trial=trial)
    return give_dose(nurse, trial, hours(0))
