"""confirm_programming and read_back called directly: the blind re-entry that records the programming of a signed
change, the independent read-back that makes it the program in force, and the mismatch that is refused, changes
nothing and is itself audited (T3, T9, T12)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import DueCheck
from tests.titration.support import PASSWORD, T0, at
from titration import services
from titration.models import DoseChange, Pump
from titration.services.programming import ProgrammingMismatch
from wardflow.audit.models import AuditEvent
from wardflow.errors import RoleNotAllowed, WorkflowConflict

pytestmark = pytest.mark.django_db


def confirm(actor, change, *, dose="100", strength="500", when=None):
    """The nurse's blind re-entry of what the pump reads back."""
    return services.confirm_programming(
        actor=actor,
        change=change,
        programmed_at=when or at(),
        daily_dose_mcg=Decimal(dose),
        concentration_mcg_per_ml=Decimal(strength),
    )


def read(actor, change, *, dose="100", strength="500", when=None, segments=None):
    """The second clinician's blind read-back of the programmed pump."""
    return services.read_back(actor=actor, change=change, read_at=when or at(), daily_dose_mcg=Decimal(dose),
                              concentration_mcg_per_ml=Decimal(strength), segments=segments)  # fmt: skip


def test_a_matching_read_back_puts_the_change_in_force_at_its_time_t12(signed_initial, nurse, second_nurse, clock):
    programmed = confirm(nurse, signed_initial)
    clock.move_to(at(hours=2))
    change = read(second_nurse, programmed, when=at(hours=2))
    assert (change.state, change.read_back_by, change.read_back_at) == ("active", second_nurse, at(hours=2))
    pump = Pump.objects.get()
    assert pump.active_change_id == change.pk
    assert pump.refill_due_at == at(days=87, hours=2)
    step = DueCheck.objects.get(kind="titration.step_due", state="pending")
    assert step.due_at == T0 + timedelta(hours=26)
    assert AuditEvent.objects.filter(action="dose_change.programmed").count() == 1
    assert AuditEvent.objects.filter(action="dose_change.read_back").count() == 1
    assert not AuditEvent.objects.filter(action="dose_change.programming_mismatch").exists()


def test_with_the_policy_off_a_matching_entry_makes_the_change_the_program_in_force_t12(signed_initial, nurse,
                                                                                       settings):  # fmt: skip
    settings.WARDFLOW_POLICY = {"independent_readback": False}
    change = confirm(nurse, signed_initial)
    assert change.state == "active"
    pump = Pump.objects.get()
    assert pump.active_change_id == change.pk
    assert pump.refill_due_at == at(days=87)
    step = DueCheck.objects.get(kind="titration.step_due", state="pending")
    assert step.due_at == T0 + timedelta(hours=24)
    assert AuditEvent.objects.filter(action="dose_change.programmed").count() == 1
    assert not AuditEvent.objects.filter(action__in=["dose_change.read_back", "dose_change.programming_mismatch"])


def test_a_mismatch_leaves_the_change_approved_and_writes_one_mismatch_event_t12(signed_initial, nurse):
    with pytest.raises(ProgrammingMismatch) as refused:
        confirm(nurse, signed_initial, dose="4.17")  # mcg/hour entered for mcg/day
    assert isinstance(refused.value, WorkflowConflict) and refused.value.rule == "T12"
    assert DoseChange.objects.get(pk=signed_initial.pk).state == "approved"
    assert Pump.objects.get().active_change is None
    assert not DueCheck.objects.filter(kind__startswith="titration.").exists()
    assert not AuditEvent.objects.filter(action="dose_change.programmed").exists()
    mismatch = AuditEvent.objects.get(action="dose_change.programming_mismatch")
    assert mismatch.subject_id == str(signed_initial.pk)
    assert Decimal(mismatch.after["entered_daily_dose_mcg"]) == Decimal("4.17")


@pytest.mark.django_db(transaction=True)
def test_the_mismatch_event_is_committed_although_the_act_is_refused_t12(signed_initial, nurse, allow_audit_flush):
    with pytest.raises(ProgrammingMismatch):
        confirm(nurse, signed_initial, strength="50")
    assert AuditEvent.objects.filter(action="dose_change.programming_mismatch").count() == 1
    assert DoseChange.objects.get(pk=signed_initial.pk).state == "approved"


def test_a_change_is_not_programmed_before_its_earliest_time_t3(active_pump, nurse, neurologist, clock):
    """The earliest time runs from the read-back of the change in force (T3, T12)."""
    change = services.propose_dose_change(actor=nurse, pump=active_pump, kind="titration",
                                          new_daily_dose_mcg=Decimal("120"))  # fmt: skip
    services.approve_dose_change(actor=neurologist, change=change, password=PASSWORD)
    clock.move_to(at(hours=23))
    with pytest.raises(WorkflowConflict) as refused:
        confirm(nurse, change, dose="120", when=at(hours=23))
    assert refused.value.rule == "T3"
    assert DoseChange.objects.get(pk=change.pk).state == "approved"
    assert AuditEvent.objects.filter(action="dose_change.programmed").count() == 1  # the initial dose's only
    assert not AuditEvent.objects.filter(action="dose_change.programming_mismatch").exists()


def test_an_unsigned_change_is_not_programmed_t9(implanted, nurse):
    change = implanted.dose_changes.get()
    with pytest.raises(WorkflowConflict) as refused:
        confirm(nurse, change)
    assert refused.value.rule == "T9"
    assert DoseChange.objects.get(pk=change.pk).state == "proposed"
    assert not AuditEvent.objects.filter(action__startswith="dose_change.programm").exists()


def test_a_neurologist_is_refused_before_any_dose_change_is_read_t9(neurologist):
    unsaved = DoseChange(pump=Pump())
    with CaptureQueriesContext(connection) as queries, pytest.raises(RoleNotAllowed) as refused:
        confirm(neurologist, unsaved)
    assert refused.value.rule == "T9"
    assert not [q["sql"] for q in queries if "titration_" in q["sql"]]
