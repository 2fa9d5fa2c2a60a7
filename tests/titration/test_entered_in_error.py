"""D4 for refills, through the HTTP API as the ward's roles: a refill marked entered in error stays, flagged with who,
when and why, and the reservoir estimate and refill dates go back to the last fill that counts (R2)."""

from datetime import datetime
from decimal import Decimal

import pytest

from alerts.models import DueCheck
from tests.titration.support import at, propose, pump_of, refill
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db

SCHEDULE = ("filled_at", "alarm_at", "refill_due_at", "current_volume_ml", "days_to_alarm")


def mark(client, refill_id, reason="charted on the wrong pump"):
    return client.post(f"/api/v1/refills/{refill_id}/entered-in-error/", {"reason": reason}, format="json")


def refilled(client, pump_id, when: datetime, added="20", removed="2.5") -> int:
    response = refill(client, pump_id, when, removed=removed, added=added)
    assert response.status_code == 201, response.json()
    return Refill.objects.filter(pump=pump_id).order_by("-id").values_list("pk", flat=True).first()


def schedule(client, pump_id) -> dict:
    body = pump_of(client, pump_id)
    return {key: body[key] for key in SCHEDULE}


def corrections():
    return AuditEvent.objects.filter(action="refill.entered_in_error")


def test_a_refill_in_error_restores_the_implant_fill_and_its_refill_dates_r2(clock, team, running_pump):
    nurse, _ = team
    clock.move_to(at(days=10))
    implant_fill = schedule(nurse, running_pump)
    refill_id = refilled(nurse, running_pump, at(days=10))
    assert schedule(nurse, running_pump) != implant_fill
    response = mark(nurse, refill_id)
    assert response.status_code == 200, response.json()
    assert schedule(nurse, running_pump) == implant_fill
    pump = Pump.objects.get(pk=running_pump)
    assert (pump.filled_at, pump.volume_after_fill_ml) == (at(), Decimal("20.00"))


def test_a_refill_in_error_is_refused_when_the_pumps_first_fill_is_not_on_record_d4(clock, team, running_pump):
    """A pump recorded before its first fill was kept (and whose implant event does not give it) cannot go back to
    it: the marking is refused rather than leaving the reservoir estimate on a fill that was never made."""
    nurse, _ = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse, running_pump, at(days=10))
    Pump.objects.filter(pk=running_pump).update(initial_volume_ml=None)
    before = schedule(nurse, running_pump)
    response = mark(nurse, refill_id)
    assert response.status_code == 409 and response.json()["rule"] == "D4"
    assert not Refill.objects.get(pk=refill_id).entered_in_error
    assert schedule(nurse, running_pump) == before and not corrections().exists()


def test_a_refill_in_error_restores_the_refill_before_it_r2(clock, team, running_pump):
    nurse, _ = team
    clock.move_to(at(days=10))
    refilled(nurse, running_pump, at(days=10), added="18")
    clock.move_to(at(days=12))
    after_first = schedule(nurse, running_pump)
    second = refilled(nurse, running_pump, at(days=12), added="20")
    mark(nurse, second)
    assert schedule(nurse, running_pump) == after_first
    assert Pump.objects.get(pk=running_pump).volume_after_fill_ml == Decimal("18.00")


def test_an_earlier_refill_in_error_leaves_the_fill_of_the_later_one(clock, team, running_pump):
    nurse, _ = team
    clock.move_to(at(days=10))
    first = refilled(nurse, running_pump, at(days=10), added="18")
    clock.move_to(at(days=12))
    refilled(nurse, running_pump, at(days=12), added="20")
    after_second = schedule(nurse, running_pump)
    assert mark(nurse, first).status_code == 200
    assert schedule(nurse, running_pump) == after_second


def test_a_refill_in_error_cancels_the_observation_due_after_it_r6(clock, team, running_pump):
    nurse, _ = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse, running_pump, at(days=10))
    checks = DueCheck.objects.filter(subject_type="titration.refill", subject_id=str(refill_id))
    assert checks.filter(state="pending").count() == 1
    mark(nurse, refill_id)
    assert not checks.filter(state="pending").exists()
    assert checks.count() == 1  # closed, not deleted


def test_a_refill_in_error_stays_unchanged_flagged_and_audited_with_who_and_why(clock, team, nurse, running_pump):
    nurse_client, _ = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse_client, running_pump, at(days=10))
    clock.move_to(at(days=10, hours=1))
    body = mark(nurse_client, refill_id).json()
    assert (body["entered_in_error"], body["entered_in_error_by"], body["entered_in_error_reason"]) == (
        True, "nina", "charted on the wrong pump",
    )  # fmt: skip
    kept = Refill.objects.get(pk=refill_id)
    assert (kept.refilled_at, kept.volume_added_ml, kept.volume_removed_ml) == (at(days=10), Decimal("20.00"),
                                                                               Decimal("2.50"))  # fmt: skip
    listed = pump_of(nurse_client, running_pump)["refills"]
    assert [(r["id"], r["entered_in_error"]) for r in listed] == [(refill_id, True)]
    event = corrections().get()
    assert (event.actor, event.role, event.reason, event.rules) == (nurse, "nurse", "charted on the wrong pump", ["D4"])
    assert event.before["filled_at"] == "2026-10-11T08:00:00Z"
    assert event.after["filled_at"] == "2026-10-01T08:00:00Z"


def test_a_refill_with_a_standing_refill_adjustment_is_refused_until_it_is_rejected_d4(clock, team, running_pump):
    nurse, neuro = team
    neuro.post(f"/api/v1/pumps/{running_pump}/phase/", {"phase": "maintenance", "reason": "stable"}, format="json")
    clock.move_to(at(days=2))
    refill_id = refilled(nurse, running_pump, at(days=2))
    change_id = propose(nurse, running_pump, "120", kind="refill_adjustment", refill=refill_id).json()["id"]
    response = mark(nurse, refill_id)
    assert (response.status_code, response.json()["rule"]) == (409, "D4")
    assert "reject it first" in response.json()["detail"]
    assert Refill.objects.get(pk=refill_id).entered_in_error_at is None
    assert not corrections().exists()
    neuro.post(f"/api/v1/dose-changes/{change_id}/reject/", {"reason": "refill charted in error"}, format="json")
    assert mark(nurse, refill_id).status_code == 200
    assert DoseChange.objects.get(pk=change_id).state == DoseChange.State.REJECTED


def test_a_refill_in_error_cannot_take_a_refill_adjustment_t5(clock, team, running_pump):
    nurse, neuro = team
    neuro.post(f"/api/v1/pumps/{running_pump}/phase/", {"phase": "maintenance", "reason": "stable"}, format="json")
    clock.move_to(at(days=2))
    refill_id = refilled(nurse, running_pump, at(days=2))
    mark(nurse, refill_id)
    response = propose(nurse, running_pump, "120", kind="refill_adjustment", refill=refill_id)
    assert (response.status_code, response.json()["rule"]) == (409, "D4")
    assert not DoseChange.objects.filter(kind="refill_adjustment").exists()


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_blank_reason_is_refused_and_nothing_written(clock, team, running_pump, reason):
    nurse, _ = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse, running_pump, at(days=10))
    before = schedule(nurse, running_pump)
    response = mark(nurse, refill_id, reason=reason)
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Refill.objects.get(pk=refill_id).entered_in_error_at is None
    assert schedule(nurse, running_pump) == before
    assert not corrections().exists()


def test_another_wards_refill_answers_404_and_nothing_written(clock, team, running_pump, api_as, make_staff,
                                                             other_ward):  # fmt: skip
    nurse, _ = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse, running_pump, at(days=10))
    stranger = api_as(make_staff(Role.NEUROLOGIST, other_ward))
    assert mark(stranger, refill_id).status_code == 404
    assert Refill.objects.get(pk=refill_id).entered_in_error_at is None
    assert not corrections().exists()


def test_an_administrator_may_not_mark_a_refill_entered_in_error(clock, team, running_pump, api_as, administrator):
    nurse, _ = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse, running_pump, at(days=10))
    assert mark(api_as(administrator), refill_id).status_code == 403
    assert Refill.objects.get(pk=refill_id).entered_in_error_at is None
    assert not corrections().exists()


def test_a_refill_already_in_error_answers_409(clock, team, running_pump):
    nurse, neuro = team
    clock.move_to(at(days=10))
    refill_id = refilled(nurse, running_pump, at(days=10))
    mark(nurse, refill_id)
    response = mark(neuro, refill_id, reason="again")
    assert (response.status_code, response.json()["rule"]) == (409, "D4")
    assert Refill.objects.get(pk=refill_id).entered_in_error_reason == "charted on the wrong pump"
    assert corrections().count() == 1


def test_a_refill_before_one_in_error_is_answered_where_the_record_lists_it_r2(clock, team, running_pump):
    """A refill later than the fill that counts may still precede one entered in error: the answer's history, newest
    first, lists it after that one, as the pump's record does."""
    nurse_client, _ = team
    clock.move_to(at(days=10))
    in_error = refilled(nurse_client, running_pump, at(days=10))
    mark(nurse_client, in_error)
    clock.move_to(at(days=11))
    answer = refill(nurse_client, running_pump, at(days=8), removed="18.4").json()
    record = pump_of(nurse_client, running_pump)["refills"]
    new = Refill.objects.latest("id").pk
    assert [(r["id"], r["entered_in_error"]) for r in answer["refills"]] == [(in_error, True), (new, False)]
    assert answer["refills"] == record
