"""Refill volumes through the HTTP API (R5): neither the volume removed nor the volume after the fill exceeds the
reservoir; a refused refill leaves the pump, its schedule and the audit trail as they were."""

import pytest

from alerts.models import DueCheck
from tests.titration.support import at, refill
from titration.models import Pump, Refill
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def schedule():
    pump = Pump.objects.get()
    checks = DueCheck.objects.filter(kind__startswith="titration.refill", state="pending")
    return pump.filled_at, pump.volume_after_fill_ml, pump.refill_due_at, sorted(checks.values_list("id", flat=True))


def test_more_removed_than_the_reservoir_holds_is_refused_r5(clock, team, running_pump):
    nurse_client, _ = team
    before = schedule()
    clock.move_to(at(days=80))
    response = refill(nurse_client, running_pump, at(days=80), removed="35")
    assert response.status_code == 400
    body = response.json()
    assert body["rule"] == "R5"
    assert body["volume_removed_ml"] == ["R5: the volume removed (35.00 mL) cannot exceed the reservoir (20.00 mL)."]
    assert not Refill.objects.exists()
    assert schedule() == before
    assert not AuditEvent.objects.filter(action="refill.recorded").exists()


def test_a_fill_beyond_the_reservoir_is_refused_citing_r5(clock, team, running_pump):
    nurse_client, _ = team
    before = schedule()
    clock.move_to(at(days=80))
    response = refill(nurse_client, running_pump, at(days=80), removed="4", added="25")
    assert response.status_code == 400
    body = response.json()
    assert body["rule"] == "R5"
    assert body["volume_added_ml"][0].startswith("R5: the volume after the fill (25.00 mL) cannot exceed")
    assert not Refill.objects.exists()
    assert schedule() == before
    assert not AuditEvent.objects.filter(action="refill.recorded").exists()
