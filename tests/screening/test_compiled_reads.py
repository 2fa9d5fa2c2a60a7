"""Charting an observation and giving a test dose send reads that are compiled once and sent as SQL afterwards
(`wardflow/compiled.py`): the patient or trial the act names on the caller's wards, the patient's current trial and
its lock, the due slots and overdue alerts (A1), the trial's doses, when the patient's were given (S3) and the V2
baseline. They must read what the ORM reads, and compile nothing after the first act."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from alerts.models import DueCheck
from screening import selectors, services
from screening.kinds import CheckKind
from screening.models import ScreeningTrial
from screening.services.trials import lock_current_trial
from tests.perf.test_row_locks import lockable_now
from tests.screening.support import chart_on, give_dose, hours
from tests.support import columns_of
from wardflow import protocol
from wardflow.patients.models import Patient
from wardflow.patients.selectors import patient_to_act_on
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def test_the_current_trial_is_read_with_its_patient_and_ward_as_stored(trial, django_assert_num_queries):
    stored = ScreeningTrial.objects.select_related("patient__ward").get(pk=trial.pk)
    with transaction.atomic():
        locked = lock_current_trial(trial.patient)
        with django_assert_num_queries(0):
            patient, ward = locked.patient, locked.patient.ward
    assert columns_of(locked) == columns_of(stored)
    assert (columns_of(patient), columns_of(ward)) == (columns_of(stored.patient), columns_of(stored.patient.ward))


def test_a_suspended_trial_is_current_and_a_closed_one_is_not_s10(trial, neurologist):
    services.suspend_trial(actor=neurologist, trial=trial, reason="seizure under review")
    with transaction.atomic():
        assert lock_current_trial(trial.patient).pk == trial.pk
    services.cancel_trial(actor=neurologist, trial=trial, reason="family withdrew consent")
    with transaction.atomic():
        assert lock_current_trial(trial.patient) is None


@pytest.mark.django_db(transaction=True)
def test_the_current_trial_is_locked_and_its_patient_is_not(allow_audit_flush, clock, adult, neurologist):
    trial = services.open_trial(actor=neurologist, patient=adult)
    with transaction.atomic():
        lock_current_trial(adult)
        assert not lockable_now(ScreeningTrial, trial.pk)
        assert lockable_now(Patient, adult.pk)


def test_an_act_reaches_a_patient_and_their_trial_on_the_callers_wards_only(
    trial, nurse, neurologist, administrator, make_staff, other_ward, django_assert_num_queries
):
    """api.md: another ward's record answers like a missing one; an administrator sees no patient."""
    patient = trial.patient
    administrator.wards.add(patient.ward)
    for member in (nurse, neurologist):
        found = patient_to_act_on(member, patient.pk)
        with django_assert_num_queries(0):
            assert (columns_of(found), columns_of(found.ward)) == (columns_of(patient), columns_of(patient.ward))
        reached = selectors.trial_to_act_on(member, trial.pk)
        with django_assert_num_queries(0):
            assert (reached.pk, reached.patient.pk, reached.patient.ward) == (trial.pk, patient.pk, patient.ward)
    for outsider in (make_staff(Role.NURSE, other_ward), administrator):
        assert patient_to_act_on(outsider, patient.pk) is None
        assert selectors.trial_to_act_on(outsider, trial.pk) is None
    assert patient_to_act_on(nurse, patient.pk + 1000) is None


def test_charting_compiles_no_statement_after_the_first_observation(clock, trial, make_patient, ward, nurse,
                                                                    forbid_compiling):  # fmt: skip
    """With a current trial and without one (the reads differ: a trial found, or none); the observation and its
    audit event (D2) are inserted by statements built once, too."""
    no_trial = make_patient(ward, "ADULT-3", date_of_birth=date(1981, 1, 1))
    chart_on(nurse, patient_to_act_on(nurse, trial.patient.pk), hours(-1))
    forbid_compiling(writes=True)
    observation = chart_on(nurse, patient_to_act_on(nurse, trial.patient.pk), hours(-0.5))
    assert observation.trial_id == trial.pk
    assert chart_on(nurse, patient_to_act_on(nurse, no_trial.pk), hours(-0.5)).trial_id is None


def test_an_observation_charted_in_time_closes_its_due_check_after_compiling_a1(clock, dose, nurse, forbid_compiling,
                                                                                 monkeypatch):  # fmt: skip
    """The due slots come from a compiled read (S5: hourly from 1 h after the dose, each filled within half an hour
    either side): the 1 h slot is closed by its observation, not by one charted a quarter of an hour after the dose."""
    pending = DueCheck.objects.filter(patient=dose.trial.patient, kind=CheckKind.OBSERVATION_OVERDUE, state="pending")
    slots = pending.count()
    first_slot = protocol.observation_schedule(dose.administered_at)[0]
    clock.move_to(first_slot + timedelta(minutes=5))
    chart_on(nurse, dose.trial.patient, hours(0.25), trial=dose.trial)  # fills no slot
    forbid_compiling()
    chart_on(nurse, dose.trial.patient, first_slot, trial=dose.trial)
    monkeypatch.undo()  # compiling allowed again: the test's own count
    assert pending.count() == slots - 1


def test_the_v2_baseline_is_the_latest_observation_of_the_hour_before_the_dose(clock, trial, nurse):
    """V2 (policy window before the dose): from its start, inclusive, to the dose, exclusive; one entered in error left
    out."""
    patient = trial.patient
    start, _ = protocol.predose_window(hours(0))
    chart_on(nurse, patient, start - timedelta(minutes=30), respiratory_rate=Decimal("15"))  # before the window
    edge = chart_on(nurse, patient, start, respiratory_rate=Decimal("16"))  # its first instant
    assert selectors.predose_check(patient, hours(0)).baseline_at == edge.observed_at
    latest = chart_on(nurse, patient, hours(-0.25), respiratory_rate=Decimal("17"))
    chart_on(nurse, patient, hours(0), respiratory_rate=Decimal("18"))  # at the dose: after the window
    assert selectors.predose_check(patient, hours(0)).baseline_at == latest.observed_at
    services.mark_observation_entered_in_error(actor=nurse, observation=latest, reason="charted on the wrong patient")
    assert selectors.predose_check(patient, hours(0)).baseline_at == edge.observed_at
    # A dose at the time of the observation before the window: that observation is not before it, none is.
    assert selectors.predose_check(patient, start - timedelta(minutes=30)).baseline_at is None


def test_giving_a_test_dose_compiles_no_statement_after_the_first(clock, dose, make_patient, ward, nurse,
                                                                   neurologist, forbid_compiling):  # fmt: skip
    """Dose 1 of another patient's trial: the trial named, its lock, its doses, the patient's earlier doses (S3), the
    baseline (V2) and the alerts it resolves are all read as compiled with the first dose; the dose, the trial's
    state, its observation slots (S5), the next dose's check cancelled and the audit event are written so too."""
    other = services.open_trial(
        actor=neurologist, patient=make_patient(ward, "ADULT-2", date_of_birth=date(1979, 1, 1))
    )
    chart_on(nurse, other.patient, hours(-0.5), trial=other)
    forbid_compiling(writes=True)
    given = give_dose(nurse, selectors.trial_to_act_on(nurse, other.pk), hours(0))
    assert (given.trial_id, given.number, given.dose_mcg) == (other.pk, 1, protocol.TEST_DOSE_LADDER_MCG[0])


def test_the_trials_doses_and_the_patients_spacing_are_read_as_stored_s3(clock, dose, django_assert_num_queries):
    trial = ScreeningTrial.objects.get(pk=dose.trial_id)
    assert [columns_of(d) for d in selectors.trial_doses(trial)] == [columns_of(dose)]
    with django_assert_num_queries(0):
        assert [d.trial for d in trial.doses.all()] == [trial]  # read onto the trial, once
    assert selectors.earliest_test_dose_at(trial) == dose.administered_at + protocol.TEST_DOSE_SPACING
