"""record_refill called directly: the reservoir estimate and the refill schedule restart from the new fill, and a
refused refill leaves the pump as it was (R1, R2, R3, T2)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from tests.titration.support import at
from titration import services
from titration.models import Pump, Refill
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, WorkflowConflict

pytestmark = pytest.mark.django_db


def refill(nurse, pump, *, removed="4", added="20", strength="500", when=None):
    return services.record_refill(actor=nurse, pump=pump, refilled_at=when or at(days=80),
                                  volume_removed_ml=Decimal(removed), volume_added_ml=Decimal(added),
                                  concentration_mcg_per_ml=Decimal(strength), lot="RF-1")  # fmt: skip


def test_a_refill_restarts_the_schedule_and_replaces_the_reminders_r2(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    refill(nurse, active_pump)
    due = Pump.objects.get().refill_due_at
    assert due == at(days=80 + 87)
    reminders = DueCheck.objects.filter(kind__startswith="titration.refill")
    assert sorted(reminders.filter(state="pending").values_list("due_at", flat=True)) == sorted(
        [*(due - timedelta(days=d) for d in (14, 7, 3, 1)), due]
    )
    assert reminders.filter(state="cancelled").count() == 5


def test_a_refill_resolves_the_open_refill_alerts_r3(active_pump, nurse, clock):
    due = Pump.objects.get().refill_due_at
    dispatch_due_checks(now=due - timedelta(days=14))
    assert Alert.objects.get(kind="refill_due").state == "open"
    clock.move_to(at(days=80))
    refill(nurse, active_pump)
    assert Alert.objects.get(kind="refill_due").state == "resolved"


def test_a_refill_at_another_strength_is_refused_t2(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    with pytest.raises(WorkflowConflict) as refused:
        refill(nurse, active_pump, strength="2000")
    assert refused.value.rule == "T2"
    assert not Refill.objects.exists()
    assert Pump.objects.get().filled_at == at()
    assert not AuditEvent.objects.filter(action="refill.recorded").exists()


def test_a_fill_at_the_alarm_volume_is_refused_r1(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    with pytest.raises(InvalidInput) as refused:
        refill(nurse, active_pump, added="2")
    assert "R1" in refused.value.errors["volume_added_ml"][0]
    assert not Refill.objects.exists()
    assert not AuditEvent.objects.filter(action="refill.recorded").exists()
