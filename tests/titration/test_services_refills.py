"""record_refill called directly: the reservoir estimate and the refill schedule restart from the new fill, a
refused refill leaves the pump as it was (R1, R2, R3, R6, T15), and an observation falls due an hour later (R6)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections, transaction

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from screening import services as screening
from tests.support import a_lock_is_awaited
from tests.titration.support import at
from titration import services
from titration.models import DoseChange, Pump, Refill
from titration.selectors import estimated_volume
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput

pytestmark = pytest.mark.django_db
# R6/A1: the observation alerts after a refill (the screening trial before the implant has its own).
REFILL_OBSERVATION_ALERTS = Alert.objects.filter(
    kind="observation_overdue", source_check__kind="titration.observation_after_refill"
)
OBSERVATION = {"ashworth_mean": Decimal("1"), "penn_spasm_frequency": Decimal("1"), "sedation": "alert",
               "heart_rate": Decimal("70"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
               "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip


def refill(nurse, pump, *, removed="4", added="20", strength="500", when=None, septum=True, aseptic=True, **extra):
    return services.record_refill(actor=nurse, pump=pump, refilled_at=when or at(days=80),
                                  volume_removed_ml=Decimal(removed), volume_added_ml=Decimal(added),
                                  concentration_mcg_per_ml=Decimal(strength), lot="RF-1",
                                  septum_access_confirmed=septum, aseptic_technique=aseptic, **extra)  # fmt: skip


def assert_nothing_written(pump):
    assert not Refill.objects.exists()
    assert Pump.objects.get(pk=pump.pk).filled_at == at()
    assert not AuditEvent.objects.filter(action__startswith="refill.").exists()
    assert not DoseChange.objects.exclude(kind="initial").exists()
    assert not DueCheck.objects.filter(kind="titration.observation_after_refill").exists()


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


def test_the_reservoir_estimate_restarts_from_the_stored_fill_r2(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    refill(nurse, active_pump, removed="4", added="20")
    stored = Pump.objects.get()
    assert (stored.filled_at, stored.volume_after_fill_ml) == (at(days=80), Decimal("20"))
    assert estimated_volume(stored, at(days=80)) == Decimal("20")
    assert estimated_volume(stored, at(days=81)) < Decimal("20")


def test_a_refill_resolves_the_open_refill_alerts_r3(active_pump, nurse, clock):
    due = Pump.objects.get().refill_due_at
    dispatch_due_checks(now=due - timedelta(days=14))
    assert Alert.objects.get(kind="refill_due").state == "open"
    clock.move_to(at(days=80))
    refill(nurse, active_pump)
    assert Alert.objects.get(kind="refill_due").state == "resolved"


def test_a_refill_at_another_strength_without_its_new_program_is_refused_t15(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    with pytest.raises(InvalidInput) as refused:
        refill(nurse, active_pump, strength="2000")
    assert refused.value.rule == "T15" and "new_program" in refused.value.errors
    assert_nothing_written(active_pump)


@pytest.mark.parametrize(("septum", "aseptic", "named"), [
    (False, True, {"septum_access_confirmed"}),
    (True, False, {"aseptic_technique"}),
    (False, False, {"septum_access_confirmed", "aseptic_technique"}),
])  # fmt: skip
def test_a_refill_without_both_safety_confirmations_is_refused_r6(active_pump, nurse, clock, septum, aseptic, named):
    clock.move_to(at(days=80))
    due_before = Pump.objects.get().refill_due_at
    with pytest.raises(InvalidInput) as refused:
        refill(nurse, active_pump, septum=septum, aseptic=aseptic)
    assert refused.value.rule == "R6" and set(refused.value.errors) == named
    assert_nothing_written(active_pump)
    assert Pump.objects.get().refill_due_at == due_before


def test_a_refill_records_both_safety_confirmations_r6(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    recorded = refill(nurse, active_pump)
    assert recorded.septum_access_confirmed and recorded.aseptic_technique
    assert AuditEvent.objects.get(action="refill.recorded").rules == ["R1", "R2", "R5", "R6"]


def test_an_observation_falls_due_an_hour_after_a_refill_r6(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    recorded = refill(nurse, active_pump)
    check = DueCheck.objects.get(kind="titration.observation_after_refill")
    assert check.due_at == at(days=80, hours=1) + timedelta(minutes=15)  # A1: overdue 15 min past due
    assert check.payload == {"slot_due_at": at(days=80, hours=1).isoformat()}
    assert (check.patient_id, check.subject_id) == (active_pump.patient_id, str(recorded.pk))


def test_no_observation_an_hour_after_a_refill_raises_the_a1_alert_r6(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    refill(nurse, active_pump)
    dispatch_due_checks(now=(at(days=80, hours=1) + timedelta(minutes=14)))
    assert not REFILL_OBSERVATION_ALERTS.exists()
    dispatch_due_checks(now=at(days=80, hours=1) + timedelta(minutes=15))
    alert = REFILL_OBSERVATION_ALERTS.get()
    assert (alert.rule, alert.severity, alert.target_role) == ("A1", "warning", "nurse")
    assert alert.due_at == at(days=80, hours=1) and "after the refill" in alert.message


def test_an_unacknowledged_refill_observation_alert_escalates_as_a1(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    refill(nurse, active_pump)
    dispatch_due_checks(now=at(days=80, hours=1) + timedelta(minutes=15))
    dispatch_due_checks(now=(at(days=80, hours=1) + timedelta(minutes=45)))
    assert REFILL_OBSERVATION_ALERTS.get().state == "escalated"


def test_an_observation_charted_in_the_slot_raises_no_alert_r6(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    refill(nurse, active_pump)
    clock.move_to(at(days=80, hours=1) + timedelta(minutes=5))
    observed_at = at(days=80, hours=1) + timedelta(minutes=5)
    screening.chart_observation(actor=nurse, patient=active_pump.patient, observed_at=observed_at, **OBSERVATION)
    dispatch_due_checks(now=at(days=80, hours=1) + timedelta(minutes=15))
    assert not REFILL_OBSERVATION_ALERTS.exists()
    assert DueCheck.objects.get(kind="titration.observation_after_refill").state != "pending"


def test_an_observation_outside_the_slot_does_not_count_r6(active_pump, nurse, clock):
    clock.move_to(at(days=80, hours=1) + timedelta(minutes=31))
    refill(nurse, active_pump, when=at(days=80))
    observed_at = at(days=80, hours=1) + timedelta(minutes=30)
    screening.chart_observation(actor=nurse, patient=active_pump.patient, observed_at=observed_at, **OBSERVATION)
    dispatch_due_checks(now=at(days=80, hours=1) + timedelta(minutes=31))
    assert REFILL_OBSERVATION_ALERTS.exists()


def test_a_fill_at_the_alarm_volume_is_refused_r1(active_pump, nurse, clock):
    clock.move_to(at(days=80))
    with pytest.raises(InvalidInput) as refused:
        refill(nurse, active_pump, added="2")
    assert "R1" in refused.value.errors["volume_added_ml"][0]
    assert not Refill.objects.exists()
    assert not AuditEvent.objects.filter(action="refill.recorded").exists()


@pytest.mark.django_db(transaction=True)
def test_a_reminder_being_raised_as_the_pump_is_refilled_is_waited_for_then_resolved_r3(
    allow_audit_flush, active_pump, nurse, clock
):
    """R3: the dispatcher raising the old due date's reminder holds its check until it commits. The refill's cancel
    waits for it, and the refill then resolves the alert it raised: no reminder of the old date is left open."""
    reminders = DueCheck.objects.filter(kind="titration.refill_reminder", state="pending")
    first = reminders.order_by("due_at").first()
    clock.move_to(first.due_at)
    raising = threading.Event()

    def dispatcher():
        try:
            with transaction.atomic():  # the cycle's commit held back until the refill waits for the check
                dispatch_due_checks(now=first.due_at)
                raising.set()
                assert a_lock_is_awaited(), "the refill never waited for the reminder being raised"
        finally:
            connections.close_all()

    raising_thread = threading.Thread(target=dispatcher)
    raising_thread.start()
    assert raising.wait(timeout=30)
    refill(nurse, active_pump, removed=_expected(active_pump, first.due_at), when=first.due_at)
    raising_thread.join()
    raised = Alert.objects.get(kind="refill_due", source_check=first)
    assert raised.state == Alert.State.RESOLVED
    assert not Alert.objects.filter(kind="refill_due").exclude(state=Alert.State.RESOLVED).exists()
    assert DueCheck.objects.get(pk=first.pk).state == DueCheck.State.DONE


def _expected(pump, when) -> str:
    return str(estimated_volume(Pump.objects.get(pk=pump.pk), when).quantize(Decimal("0.1")))
