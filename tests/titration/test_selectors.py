"""Who may act on a pump now: the answers the pages show and the services refuse by (T1, T4, T9)."""

from decimal import Decimal

import pytest

from tests.titration.support import candidate_trial
from titration import selectors

pytestmark = pytest.mark.django_db


def test_a_neurologist_may_implant_after_a_candidate_trial_once_t1(clock, nurse, neurologist, spinal_adult):
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    assert selectors.may_implant(neurologist, trial)
    assert not selectors.may_implant(nurse, trial)


def test_no_second_implant_after_the_same_trial_t1(implanted, neurologist):
    assert not selectors.may_implant(neurologist, implanted.screening_trial)


def test_changes_are_proposed_once_the_initial_dose_is_active_t9(active_pump, nurse, administrator):
    assert selectors.may_propose(nurse, active_pump)
    assert not selectors.may_propose(administrator, active_pump)


def test_no_change_is_proposed_while_the_initial_dose_waits_t9(implanted, nurse):
    assert not selectors.may_propose(nurse, implanted)


def test_only_a_neurologist_may_override_the_band_t4(nurse, neurologist):
    assert selectors.may_override_band(neurologist)
    assert not selectors.may_override_band(nurse)


def test_a_neurologist_may_sign_a_proposed_change_t9(implanted, nurse, neurologist):
    change = implanted.dose_changes.get()
    assert selectors.may_approve(neurologist, change)
    assert not selectors.may_approve(nurse, change)


def test_a_signed_change_may_not_be_signed_again_t9(signed_initial, neurologist):
    assert not selectors.may_approve(neurologist, signed_initial)


def test_a_nurse_may_program_a_signed_change_t9(signed_initial, nurse, neurologist):
    assert selectors.may_program(nurse, signed_initial)
    assert not selectors.may_program(neurologist, signed_initial)


def test_an_unsigned_change_may_not_be_programmed_t9(implanted, nurse):
    assert not selectors.may_program(nurse, implanted.dose_changes.get())


def test_the_implant_form_starts_from_the_hospital_alarm_volume_r1(settings):
    assert selectors.implant_defaults() == {"alarm_ml": Decimal("2")}
    settings.WARDFLOW_POLICY = {"default_alarm_volume_ml": Decimal("4")}
    assert selectors.implant_defaults() == {"alarm_ml": Decimal("4")}
