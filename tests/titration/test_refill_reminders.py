"""Refill reminders (R3, R4): no level raised after the fact but the nearest, the real time left in the text, one
open reminder per pump, the old due date's reminders closed, and a withdrawal-risk change after programming
rescheduling them at once."""

from datetime import timedelta

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from tests.titration.support import approve, at, candidate_trial, implant, programmed, propose
from titration.models import Pump

pytestmark = pytest.mark.django_db


@pytest.fixture
def pump_due_in(clock, team, nurse, neurologist, spinal_adult):
    """A pump whose refill falls due `days` after its 100 mcg/day became active at T0 (500 mcg/mL, alarm 2 mL):
    the fill lasts days + 3 (R2 buffer) until the alarm volume."""

    def make(days: int) -> Pump:
        nurse_client, neuro = team
        trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
        volume = 2 + (days + 3) / 5
        body = implant(neuro, spinal_adult, trial, initial_volume_ml=f"{volume:.1f}").json()
        change_id = body["initial_dose_change"]["id"]
        approve(neuro, change_id)
        assert programmed(nurse_client, change_id, at(), "100").status_code == 200
        pump = Pump.objects.get(pk=body["id"])
        assert pump.refill_due_at == at(days=days)
        return pump

    return make


def refill_reminders(**filters):
    return Alert.objects.filter(kind="refill_due", **filters)


def pending_levels():
    reminders = DueCheck.objects.filter(kind="titration.refill_reminder", state="pending").order_by("due_at")
    return [(c.payload["days_before"], c.due_at) for c in reminders]


def flag(client, patient, **flags):
    response = client.patch(f"/api/v1/patients/{patient.pk}/", {**flags, "reason": "charted"}, format="json")
    assert response.status_code == 200, response.json()


def test_a_reminder_raised_when_its_level_has_passed_states_the_real_time_left_r3(pump_due_in):
    pump_due_in(12)
    dispatch_due_checks(now=at())
    reminder = refill_reminders().get()
    assert reminder.message == "R3: pump refill due in 12 day(s), on 2026-10-13."
    assert "14 day(s)" not in reminder.message


def test_of_the_levels_already_past_when_the_date_is_set_only_the_nearest_is_raised_r3(pump_due_in):
    pump_due_in(5)
    assert pending_levels() == [(7, at()), (3, at(days=2)), (1, at(days=4))]
    dispatch_due_checks(now=at())
    reminder = refill_reminders().get()
    assert "due in 5 day(s)" in reminder.message
    assert reminder.severity == "info"
    assert not DueCheck.objects.filter(kind="titration.refill_reminder", payload__days_before=14).exists()


def test_a_later_reminder_closes_the_earlier_one_r3(clock, running_pump):
    due = Pump.objects.get().refill_due_at
    dispatch_due_checks(now=due - timedelta(days=14))
    dispatch_due_checks(now=due - timedelta(days=7))
    assert refill_reminders(state="resolved").get().message.startswith("R3: pump refill due in 14 day(s)")
    open_reminder = refill_reminders().exclude(state="resolved").get()
    assert open_reminder.message.startswith("R3: pump refill due in 7 day(s)")


def test_the_overdue_alert_closes_the_last_reminder_r3(clock, running_pump):
    due = Pump.objects.get().refill_due_at
    dispatch_due_checks(now=due - timedelta(days=1))
    dispatch_due_checks(now=due)
    assert Alert.objects.get(kind="refill_overdue").state == "open"
    assert not refill_reminders().exclude(state="resolved").exists()


def test_a_new_due_date_closes_the_reminders_of_the_old_one_r3(clock, team, running_pump):
    nurse_client, neuro = team
    old_due = Pump.objects.get().refill_due_at
    clock.move_to(at(days=73))
    dispatch_due_checks(now=at(days=73))
    old_reminder = refill_reminders().get()
    change = propose(nurse_client, running_pump, "120").json()
    approve(neuro, change["id"])
    clock.move_to(at(days=74))
    assert programmed(nurse_client, change["id"], at(days=74), "120").status_code == 200
    # 74 days at 100 mcg/day left 5.2 mL: (5.2 - 2) x 500 / 120 = 13.33 days to the alarm, due 3 days earlier
    new_due = Pump.objects.get().refill_due_at
    assert new_due == at(days=74) + timedelta(days=10, hours=8) and new_due != old_due
    old_reminder.refresh_from_db()
    assert old_reminder.state == "resolved"
    assert not DueCheck.objects.filter(kind__startswith="titration.refill", due_at=old_due, state="pending").exists()
    dispatch_due_checks(now=at(days=74))
    assert refill_reminders().exclude(state="resolved").get().message.startswith("R3: pump refill due in 10 day(s) 8 h")


def test_a_p4_factor_charted_after_programming_brings_the_21_day_reminder_r4(clock, team, running_pump, spinal_adult):
    nurse_client, _ = team
    due = Pump.objects.get().refill_due_at
    flag(nurse_client, spinal_adult, sci_t6_or_above=True)
    assert [days for days, _ in pending_levels()] == [21, 14, 7, 3, 1]
    dispatch_due_checks(now=due - timedelta(days=21))
    reminder = refill_reminders().get()
    assert (reminder.rule, reminder.message) == ("R4", "R4: pump refill due in 21 day(s), on 2026-12-27.")


def test_a_p4_factor_charted_18_days_before_the_due_date_raises_the_21_day_reminder_at_once_r4(
    clock, team, running_pump, spinal_adult
):
    nurse_client, _ = team
    due = Pump.objects.get().refill_due_at
    clock.move_to(due - timedelta(days=18))
    flag(nurse_client, spinal_adult, history_of_withdrawal=True)
    assert pending_levels()[0] == (21, due - timedelta(days=18))
    dispatch_due_checks(now=due - timedelta(days=18))
    reminder = refill_reminders().get()
    assert reminder.rule == "R4" and "due in 18 day(s)" in reminder.message
    assert Pump.objects.get().refill_due_at == due


def test_clearing_the_last_p4_factor_drops_the_21_day_reminder_r4(clock, api_as, nurse, neurologist, make_patient,
                                                                 ward):  # fmt: skip
    nurse_client, neuro = api_as(nurse), api_as(neurologist)
    patient = make_patient(ward, "P4-CLEARED", communication_difficulties=True)
    trial = candidate_trial(clock, neurologist, nurse, patient)
    body = implant(neuro, patient, trial).json()
    approve(neuro, body["initial_dose_change"]["id"])
    programmed(nurse_client, body["initial_dose_change"]["id"], at(), "100")
    assert [days for days, _ in pending_levels()] == [21, 14, 7, 3, 1]
    flag(nurse_client, patient, communication_difficulties=False)
    assert [days for days, _ in pending_levels()] == [14, 7, 3, 1]
    dispatch_due_checks(now=Pump.objects.get().refill_due_at - timedelta(days=21))
    assert not refill_reminders().exists()
