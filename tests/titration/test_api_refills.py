"""Refills through the HTTP API: the reservoir estimate, the refill due date and the residual check (R1, R2, R5)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert
from tests.titration.support import approve, at, programmed, propose, pump_of, refill
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_refill_moves_the_refill_due_date(clock, team, running_pump):
    nurse_client, _ = team
    before = datetime.fromisoformat(pump_of(nurse_client, running_pump)["refill_due_at"])
    clock.move_to(at(days=80))
    # after 80 days at 100 mcg/day, 16 mL of 500 mcg/mL were used: 4 mL expected in the reservoir
    response = refill(nurse_client, running_pump, at(days=80), removed="4.0")
    assert response.status_code == 201, response.json()
    after = datetime.fromisoformat(response.json()["refill_due_at"])
    assert before == at(days=87)
    assert after == at(days=80 + 87)
    assert Refill.objects.get().expected_residual_ml == Decimal("4")
    assert not Alert.objects.filter(kind="residual_discrepancy").exists()
    assert AuditEvent.objects.get(action="refill.recorded").rules == ["R1", "R2", "R5", "R6"]


def test_a_residual_off_by_more_than_2_ml_raises_the_r5_advisory(clock, team, running_pump):
    clock.move_to(at(days=80))
    refill(team[0], running_pump, at(days=80), removed="6.5")
    advisory = Alert.objects.get(kind="residual_discrepancy")
    assert (advisory.rule, advisory.target_role) == ("R5", "neurologist")


def test_a_dose_change_mid_interval_changes_the_reservoir_slope(clock, team, running_pump):
    nurse_client, neuro = team
    change = propose(nurse_client, running_pump, "120").json()
    approve(neuro, change["id"])
    clock.move_to(at(days=10))
    programmed(nurse_client, change["id"], at(days=10), "120")
    # 10 days at 100 mcg/day used 2 mL: 18 mL left at day 10, then (18 - 2) x 500 / 120 = 66.67 days to the alarm
    pump = Pump.objects.get()
    assert pump.alarm_at == at(days=10) + timedelta(days=66, hours=16)


def test_the_refill_answers_with_the_pump_as_its_record_shows_it_r2(clock, team, running_pump):
    """The answer's dose changes are the ones the refill read for its rules (R2): every one, newest first, with who
    proposed, signed, programmed and read it back, as the pump's own record shows them, and the new refill."""
    nurse_client, _ = team
    clock.move_to(at(days=80))
    waiting = propose(nurse_client, running_pump, "110").json()  # never in force: not one the schedule follows
    answer = refill(nurse_client, running_pump, at(days=80), removed="4.0").json()
    record = pump_of(nurse_client, running_pump)
    assert answer["dose_changes"] == record["dose_changes"]
    assert answer["dose_changes"][0]["id"] == waiting["id"] and len(answer["dose_changes"]) == 2
    assert answer["refills"] == record["refills"] == [{**record["refills"][0], "id": Refill.objects.get().pk}]


def test_the_pump_names_everyone_who_acted_on_its_dose_changes_and_refills_d1(
    clock, team, nurse, neurologist, running_pump
):
    """D1: each dose change and refill of the pump's history names, role by role, the person its record holds."""
    nurse_client, neuro = team
    clock.move_to(at(days=80))
    turned_down = propose(nurse_client, running_pump, "110").json()
    neuro.post(f"/api/v1/dose-changes/{turned_down['id']}/reject/", {"reason": "not yet"}, format="json")
    refill(nurse_client, running_pump, at(days=80), removed="4.0")
    history = pump_of(nurse_client, running_pump)
    initial = DoseChange.objects.get(pump_id=running_pump, kind="initial")
    reader = initial.read_back_by.username
    assert reader not in (nurse.username, neurologist.username)
    roles = ("proposed_by", "approved_by", "programmed_by", "read_back_by", "rejected_by")
    named = {change["id"]: tuple(change[role] for role in roles) for change in history["dose_changes"]}
    assert named == {
        initial.pk: (neurologist.username, neurologist.username, nurse.username, reader, None),
        turned_down["id"]: (nurse.username, None, None, None, neurologist.username),
    }
    assert [(r["refilled_by"], r["entered_in_error_by"]) for r in history["refills"]] == [(nurse.username, None)]
