"""The pump records' FHIR tests run on the titration tests' calendar, with one patient whose pump is running."""

from datetime import date

import pytest
import time_machine

from tests.interop.pump_story import running_pump
from tests.titration.support import T0, at


@pytest.fixture
def clock():
    """The patient is registered at T0 and screened in the days before (tests.titration.support)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "ITB-1", date_of_birth=date(1975, 4, 2), spasticity_origin="spinal")


@pytest.fixture
def pump(clock, neurologist, nurse, patient):
    return running_pump(clock, neurologist, nurse, patient, at())
