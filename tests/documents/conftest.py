from datetime import UTC, datetime

import pytest
import time_machine

from tests.documents.support import refilled_with_new_program
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _named(user, first: str, last: str):
    user.first_name, user.last_name = first, last
    user.save()
    return user


@pytest.fixture
def team(make_staff, ward):
    """The ward's clinicians by name, as their signatures are printed: a nurse who refills and programs, a second
    nurse who reads back (T12) and a neurologist who signs (T9)."""
    return (_named(make_staff(Role.NURSE, ward, username="nina"), "Nina", "Okoro"),
            _named(make_staff(Role.NURSE, ward, username="noor"), "Noor", "Haddad"),
            _named(make_staff(Role.NEUROLOGIST, ward, username="dr_nolan"), "Niamh", "Nolan"))  # fmt: skip


@pytest.fixture
def patient(clock, make_patient, ward):
    return make_patient(ward, "DOC-1", given_name="Ada", family_name="Byrne")


@pytest.fixture
def story(clock, patient, team):
    """The patient screened, implanted, refilled and adjusted at the refill (tests/documents/support.py)."""
    nurse, reader, neurologist = team
    return refilled_with_new_program(clock, patient, nurse, neurologist, reader, T0)
