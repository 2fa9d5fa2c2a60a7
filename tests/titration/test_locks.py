"""Every act on a pump or a dose change starts by finding the named record on the caller's wards, then locking its row
and reading it with what the act needs (its patient, the program in force, the change's signer and programmer).
These reads are compiled once and sent as SQL afterwards: they must read exactly what the ORM reads, and lock the row
as it did."""

from decimal import Decimal

import pytest
from django.db import transaction

from screening.models import ScreeningTrial
from screening.services.trials import lock_trial
from tests.perf.test_row_locks import lockable_now
from tests.support import columns_of
from titration import selectors
from titration.models import DoseChange, Pump
from titration.services.pumps import _lock_pump, locked_change
from wardflow.patients.models import Patient
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def test_the_locked_pump_is_read_with_its_patient_and_program_in_force_as_stored(
    active_pump, django_assert_num_queries
):
    stored = Pump.objects.select_related("patient", "active_change").get(pk=active_pump.pk)
    with transaction.atomic():
        pump = _lock_pump(active_pump.pk)
        with django_assert_num_queries(0):
            patient, program = pump.patient, pump.active_change
    assert columns_of(pump) == columns_of(stored)
    assert columns_of(patient) == columns_of(stored.patient)
    assert columns_of(program) == columns_of(stored.active_change)
    assert program.new_daily_dose_mcg == Decimal("100")
    assert program.segments == stored.active_change.segments  # a JSON field, decoded as the ORM does


def test_a_pump_with_no_program_in_force_reads_none_for_it(implanted, django_assert_num_queries):
    with transaction.atomic():
        pump = _lock_pump(implanted.pk)
        with django_assert_num_queries(0):
            assert pump.active_change is None
    assert pump.patient_id == implanted.patient_id


def test_the_lock_is_compiled_once(active_pump, signed_initial, forbid_compiling):
    with transaction.atomic():
        locked_change(signed_initial)
    forbid_compiling()
    with transaction.atomic():
        pump, change = locked_change(signed_initial)
    assert (pump.pk, change.pk) == (active_pump.pk, signed_initial.pk)
    assert (change.approved_by.username, change.programmed_by.username) == ("dr_nolan", "nina")


def test_a_pump_that_does_not_exist_is_not_found_by_the_lock(active_pump):
    with transaction.atomic(), pytest.raises(Pump.DoesNotExist):
        _lock_pump(active_pump.pk + 1000)


@pytest.mark.django_db(transaction=True)
def test_an_act_on_a_dose_change_locks_the_pump_and_the_change_not_the_patient(allow_audit_flush, signed_initial):
    """Acts on one pump queue on its row; the patient's other acts (flags, observations) go on."""
    with transaction.atomic():
        pump, change = locked_change(signed_initial)
        assert not lockable_now(Pump, pump.pk)
        assert not lockable_now(DoseChange, change.pk)
        assert lockable_now(Patient, pump.patient_id)


def test_the_locked_trial_is_read_with_its_patient_and_ward(active_pump, django_assert_num_queries):
    trial = ScreeningTrial.objects.select_related("patient__ward").get(pk=active_pump.screening_trial_id)
    with transaction.atomic():
        locked = lock_trial(trial)
        with django_assert_num_queries(0):
            patient, ward = locked.patient, locked.patient.ward
    assert columns_of(locked) == columns_of(trial)
    assert (columns_of(patient), columns_of(ward)) == (columns_of(trial.patient), columns_of(trial.patient.ward))


def test_a_change_signed_but_not_programmed_reads_no_programmer(signed_initial):
    with transaction.atomic():
        _, change = locked_change(DoseChange.objects.get(pk=signed_initial.pk))
    assert change.programmed_by is None and change.approved_by.username == "dr_nolan"


def test_an_act_reaches_a_pump_and_its_changes_on_the_callers_wards_only(
    signed_initial, nurse, neurologist, administrator, make_staff, other_ward
):
    """The act's view reads whether the named pump or change is of the caller's wards, and no further (api.md: another
    ward's record answers like a missing one)."""
    pump_id = signed_initial.pump_id
    administrator.wards.add(nurse.wards.get())  # a ward on the account does not make an administrator see it
    for member in (nurse, neurologist):
        assert selectors.pump_to_act_on(member, pump_id).pk == pump_id
        change = selectors.dose_change_to_act_on(member, signed_initial.pk)
        assert (change.pk, change.pump_id) == (signed_initial.pk, pump_id)
    for outsider in (make_staff(Role.NURSE, other_ward), administrator):
        assert selectors.pump_to_act_on(outsider, pump_id) is None
        assert selectors.dose_change_to_act_on(outsider, signed_initial.pk) is None
    assert selectors.pump_to_act_on(nurse, pump_id + 1000) is None


def test_the_read_of_the_named_pump_or_change_is_compiled_once(signed_initial, nurse, forbid_compiling):
    selectors.pump_to_act_on(nurse, signed_initial.pump_id)
    selectors.dose_change_to_act_on(nurse, signed_initial.pk)
    forbid_compiling()
    assert selectors.pump_to_act_on(nurse, signed_initial.pump_id).pk == signed_initial.pump_id
    assert selectors.dose_change_to_act_on(nurse, signed_initial.pk).pk == signed_initial.pk
