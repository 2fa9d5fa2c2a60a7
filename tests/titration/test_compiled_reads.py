"""The pump's history (its dose changes and refills, with who acted on each), the programs the refill schedule follows
and the T10/T15 reads of a proposal are compiled once and sent as SQL afterwards (`wardflow/compiled.py`): they must
read what the ORM reads, and the acts compile no read after their first."""

from decimal import Decimal

import pytest
from django.db.models import Prefetch, Q

from alerts.models import DueCheck
from tests.support import columns_of
from tests.titration.support import at, refill
from titration import selectors
from titration.kinds import AuditAction, CheckKind
from titration.models import PENDING, WAS_IN_FORCE, DoseChange, Pump
from titration.services.dose_changes import propose_dose_change
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _actors(change: DoseChange) -> list[str | None]:
    return [getattr(change, actor).username if getattr(change, f"{actor}_id") else None
            for actor in selectors.DOSE_CHANGE_ACTORS]  # fmt: skip


@pytest.fixture
def pump_with_a_past(clock, team, running_pump, neurologist) -> int:
    """The running pump (100 mcg/day since T0) refilled on day 3, with a titration to 110 mcg/day proposed on day 4."""
    nurse_client, _ = team
    clock.move_to(at(days=3))
    assert refill(nurse_client, running_pump, at(days=3), removed="17", added="20").status_code == 201
    clock.move_to(at(days=4))
    propose_dose_change(actor=neurologist, pump=Pump.objects.get(pk=running_pump), kind="titration",
                        new_daily_dose_mcg=Decimal("110"), reason="spasms persist")  # fmt: skip
    return running_pump


def test_a_pumps_history_is_read_as_prefetch_related_reads_it(pump_with_a_past, django_assert_num_queries):
    """Dose changes newest first and refills in their order, each with the user names of who acted on it."""
    stored = Pump.objects.prefetch_related(
        Prefetch("dose_changes", DoseChange.objects.order_by("-proposed_at", "-id")), "refills"
    ).get(pk=pump_with_a_past)
    pump = selectors.with_history(Pump.objects.get(pk=pump_with_a_past))
    with django_assert_num_queries(0):
        changes, refills = list(pump.dose_changes.all()), list(pump.refills.all())
        actors = [_actors(change) for change in changes]
        refilled_by = [r.refilled_by.username for r in refills]
        assert all(c.pump is pump for c in changes) and all(r.pump is pump for r in refills)
    assert [columns_of(c) for c in changes] == [columns_of(c) for c in stored.dose_changes.all()]
    assert [c.new_daily_dose_mcg for c in changes] == [Decimal("110"), Decimal("100")]
    assert actors == [_actors(change) for change in stored.dose_changes.all()]
    assert actors[1][:2] == ["dr_nolan", "dr_nolan"]  # the initial program: proposed and signed
    assert [columns_of(r) for r in refills] == [columns_of(r) for r in stored.refills.all()]
    assert refilled_by == ["nina"]


def test_the_history_already_read_by_an_act_is_not_read_again(pump_with_a_past, django_assert_num_queries):
    pump = Pump.objects.get(pk=pump_with_a_past)
    changes = selectors.dose_change_history(pump)
    with django_assert_num_queries(1):  # the refills only
        selectors.with_history(pump)
    assert list(pump.dose_changes.all()) == changes


def test_the_refill_schedule_follows_the_programs_in_force_and_a_pending_strength_r2_t15(pump_with_a_past):
    pump = Pump.objects.get(pk=pump_with_a_past)
    expected = pump.dose_changes.filter(
        Q(state__in=WAS_IN_FORCE) | Q(state__in=PENDING, concentration_mcg_per_ml__isnull=False)
    )
    changes = selectors.refill_schedule_changes(pump)
    assert [columns_of(c) for c in changes] == [columns_of(c) for c in expected]
    assert [c.new_daily_dose_mcg for c in changes] == [Decimal("100")]  # the proposal keeps the strength: not read
    assert all(c.pump is pump for c in changes)


def test_a_proposal_reads_the_last_refill_and_the_programs_in_force_compiled_t10_t15(pump_with_a_past,
                                                                                     forbid_compiling):  # fmt: skip
    pump = Pump.objects.get(pk=pump_with_a_past)
    selectors.last_refill(pump), selectors.unanswered_increases(pump)
    forbid_compiling()
    last = selectors.last_refill(pump)
    assert (last.refilled_at, last.volume_added_ml, last.pump) == (at(days=3), Decimal("20"), pump)
    assert selectors.unanswered_increases(pump) is None


def test_a_refill_compiles_no_read_after_the_first(clock, team, pump_with_a_past, forbid_compiling):
    """R2, R5, R6: the pump named, its lock, its history, the alerts resolved, the answer: all compiled once."""
    nurse_client, _ = team
    clock.move_to(at(days=5))
    assert refill(nurse_client, pump_with_a_past, at(days=5), removed="19.6", added="20").status_code == 201
    forbid_compiling()
    clock.move_to(at(days=6))
    answer = refill(nurse_client, pump_with_a_past, at(days=6), removed="19.6", added="20")
    assert answer.status_code == 201, answer.json()
    assert len(answer.json()["refills"]) == 3


def test_a_refill_compiles_no_statement_after_the_first_r2_r3(clock, pump_with_a_past, team, forbid_compiling,
                                                               monkeypatch):  # fmt: skip
    """The refill, the pump's new dates (R2), its reminders and overdue check (R3) and the R6 observation check, its
    audit event and its answer: every statement built once, after the first refill. (The residual is the one
    expected, 20 mL less two days at 0.2 mL/day: a discrepancy's alert, R5, is not among them.)"""
    nurse_client, _ = team
    due_before = Pump.objects.get(pk=pump_with_a_past).refill_due_at
    clock.move_to(at(days=5))
    forbid_compiling(writes=True)
    answer = refill(nurse_client, pump_with_a_past, at(days=5), removed="19.6", added="20")
    assert answer.status_code == 201, answer.json()
    assert [r["refilled_at"] for r in answer.json()["refills"]][:1] == [at(days=5).isoformat().replace("+00:00", "Z")]
    monkeypatch.undo()  # what the act wrote, read back through the ORM
    pump = Pump.objects.get(pk=pump_with_a_past)
    assert pump.filled_at == at(days=5) and pump.refill_due_at > due_before  # R2: from the new fill
    pending = DueCheck.objects.filter(state=DueCheck.State.PENDING)
    assert pending.filter(kind=CheckKind.REFILL_OVERDUE, subject_id=str(pump.pk)).get().due_at == pump.refill_due_at
    assert pending.filter(kind=CheckKind.REFILL_REMINDER, subject_id=str(pump.pk), due_at__lt=pump.refill_due_at)
    assert pending.filter(kind=CheckKind.REFILL_OBSERVATION).exists()  # R6
    assert AuditEvent.objects.filter(action=AuditAction.REFILL_RECORDED).count() == 2
