"""The pump's due checks: refill reminders replaced on every reschedule, overdue refills escalating (R3, R4), and
the next titration step (T3)."""

from datetime import datetime, timedelta

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from tests.titration.support import approve, at, candidate_trial, implant, programmed, propose, refill
from titration.checks import CHECK_HANDLERS
from titration.kinds import CheckKind
from titration.models import Pump

pytestmark = pytest.mark.django_db


def test_rescheduling_replaces_the_pending_reminders(clock, team, running_pump):
    nurse_client, neuro = team
    pending = lambda: DueCheck.objects.filter(kind__startswith="titration.refill", state="pending")  # noqa: E731
    assert pending().count() == 5  # 14, 7, 3, 1 days before, and overdue
    change = propose(nurse_client, running_pump, "120").json()
    approve(neuro, change["id"])
    clock.move_to(at(days=1))
    programmed(nurse_client, change["id"], at(days=1), "120")
    assert pending().count() == 5
    due = Pump.objects.get().refill_due_at
    expected = sorted([*(due - timedelta(days=d) for d in (14, 7, 3, 1)), due])
    assert sorted(pending().values_list("due_at", flat=True)) == expected


def test_an_overdue_refill_of_a_high_risk_patient_raises_escalating_alerts_r4(clock, api_as, nurse, neurologist,
                                                                              make_patient, ward):  # fmt: skip
    nurse_client, neuro = api_as(nurse), api_as(neurologist)
    patient = make_patient(ward, "HIGH-RISK", sci_t6_or_above=True)
    trial = candidate_trial(clock, neurologist, nurse, patient)
    body = implant(neuro, patient, trial).json()
    approve(neuro, body["initial_dose_change"]["id"])
    programmed(nurse_client, body["initial_dose_change"]["id"], at(), "100")
    due = Pump.objects.get().refill_due_at
    reminders = DueCheck.objects.filter(kind="titration.refill_reminder").order_by("due_at")
    assert [c.payload["days_before"] for c in reminders] == [21, 14, 7, 3, 1]
    dispatch_due_checks(now=due - timedelta(days=21))
    first = Alert.objects.get(kind="refill_due")
    assert first.rule == "R4"
    dispatch_due_checks(now=due)
    overdue = Alert.objects.get(kind="refill_overdue")
    assert (overdue.severity, overdue.target_role, overdue.rule) == ("urgent", "neurologist", "R4")
    dispatch_due_checks(now=due + timedelta(minutes=10))
    overdue.refresh_from_db()
    assert overdue.state == "escalated"
    dispatch_due_checks(now=due + timedelta(days=1))
    assert Alert.objects.filter(kind="refill_overdue").count() == 2  # repeats daily until the refill
    inbox = neuro.get("/api/v1/alerts/?state=open,escalated").json()["results"]
    assert "refill_overdue" in {a["kind"] for a in inbox}
    clock.move_to(due + timedelta(days=1, hours=2))
    refill(nurse_client, body["id"], due + timedelta(days=1, hours=2), removed="0.5")
    assert not Alert.objects.filter(kind__in=["refill_due", "refill_overdue"]).exclude(state="resolved").exists()
    dispatch_due_checks(now=due + timedelta(days=2))
    assert Alert.objects.filter(kind="refill_overdue").count() == 2


def test_titration_step_due_reminder_24_h_after_an_activated_step(clock, team, running_pump):
    dispatch_due_checks(now=at(hours=23))
    assert not Alert.objects.filter(kind="titration_step_due").exists()
    dispatch_due_checks(now=at(hours=24))
    alert = Alert.objects.get(kind="titration_step_due")
    assert (alert.rule, alert.target_role) == ("T3", "neurologist")
    assert alert.message.startswith("T3: 24 h since 100.00 mcg/day became active")


def test_the_titration_step_falls_due_after_the_hospitals_spacing_t3(settings, clock, team, running_pump):
    settings.WARDFLOW_POLICY = {"titration_spacing_hours": 48}
    nurse_client, neuro = team
    change = propose(nurse_client, running_pump, "120").json()
    assert datetime.fromisoformat(change["earliest_at"]) == at(hours=48)
    approve(neuro, change["id"])
    clock.move_to(at(hours=30))
    early = programmed(nurse_client, change["id"], at(hours=30), "120")
    assert early.status_code == 409
    assert "(48 h after the previous change became active)" in early.json()["detail"]
    clock.move_to(at(hours=48))
    assert programmed(nurse_client, change["id"], at(hours=48), "120").status_code == 200
    dispatch_due_checks(now=at(hours=48 + 47))
    assert not Alert.objects.filter(kind="titration_step_due", message__contains="120.00").exists()
    dispatch_due_checks(now=at(hours=48 + 48))
    alert = Alert.objects.get(kind="titration_step_due", message__contains="120.00")
    assert alert.message.startswith("T3: 48 h since 120.00 mcg/day became active")


def test_every_titration_check_has_a_handler_and_a_board_label():
    assert set(CHECK_HANDLERS) == set(CheckKind)
    assert [kind.label for kind in CheckKind] == [
        "Refill reminder", "Refill due", "Titration step", "Observation", "Pump replacement"
    ]  # fmt: skip


def test_an_overdue_refill_is_raised_again_at_the_policy_interval_r3(clock, settings, running_pump):
    settings.WARDFLOW_POLICY = {"refill_overdue_repeat_hours": 12}
    due = Pump.objects.get(pk=running_pump).refill_due_at
    dispatch_due_checks(now=due)
    assert DueCheck.objects.get(kind=CheckKind.REFILL_OVERDUE, state="pending").due_at == due + timedelta(hours=12)
    dispatch_due_checks(now=due + timedelta(hours=12))
    assert Alert.objects.filter(kind="refill_overdue").count() == 2  # still uncharted: raised again
