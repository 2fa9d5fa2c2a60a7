"""R3/R4 as a pure function: which reminders of a refill due date are raised, and when, given the moment the date
is set (no past level after the fact but the nearest; nothing once the date has passed)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LEVELS = (14, 7, 3, 1)
HIGH_RISK_LEVELS = (21, 14, 7, 3, 1)

lead_times = st.timedeltas(min_value=timedelta(minutes=-3 * 24 * 60), max_value=timedelta(days=40))
level_sets = st.sets(st.integers(min_value=1, max_value=30), min_size=1, max_size=6).map(
    lambda days: tuple(sorted(days, reverse=True))
)


def reminders(days_left: int, levels=LEVELS, earlier_levels=()):
    return protocol.refill_reminders(T0 + timedelta(days=days_left), T0, levels, earlier_levels)


def test_a_date_set_far_ahead_gets_every_level_at_its_time_r3():
    assert reminders(30) == tuple(protocol.RefillReminder(d, T0 + timedelta(days=30 - d)) for d in LEVELS)


def test_a_date_set_12_days_ahead_raises_the_14_day_level_now_not_later_r3():
    assert reminders(12) == (
        protocol.RefillReminder(14, T0),
        protocol.RefillReminder(7, T0 + timedelta(days=5)),
        protocol.RefillReminder(3, T0 + timedelta(days=9)),
        protocol.RefillReminder(1, T0 + timedelta(days=11)),
    )


def test_of_the_levels_already_past_only_the_nearest_is_raised_r3():
    assert reminders(5)[0] == protocol.RefillReminder(7, T0)
    assert 14 not in {r.days_before for r in reminders(5)}


def test_a_due_date_already_past_has_no_reminder_the_overdue_alert_takes_over_r3():
    assert reminders(0) == ()
    assert reminders(-2) == ()


def test_a_new_withdrawal_risk_raises_the_21_day_level_now_when_it_is_the_nearest_past_r4():
    assert reminders(18, HIGH_RISK_LEVELS, earlier_levels=LEVELS)[0] == protocol.RefillReminder(21, T0)


def test_a_level_the_earlier_schedule_held_is_not_raised_again_r4():
    # 10 days left: the 14-day reminder was raised in its time; the new 21-day level is past and not the nearest.
    assert [r.days_before for r in reminders(10, HIGH_RISK_LEVELS, earlier_levels=LEVELS)] == [7, 3, 1]


@given(lead=lead_times, levels=level_sets)
def test_no_reminder_is_raised_before_the_date_is_set_or_after_it_falls_due(lead, levels):
    for reminder in protocol.refill_reminders(T0 + lead, T0, levels):
        assert T0 <= reminder.at < T0 + lead


@given(lead=lead_times, levels=level_sets)
def test_each_level_still_ahead_is_raised_once_at_its_time(lead, levels):
    found = protocol.refill_reminders(T0 + lead, T0, levels)
    ahead = [d for d in levels if T0 + lead - timedelta(days=d) > T0]
    for days in ahead:
        assert [r.at for r in found if r.days_before == days] == [T0 + lead - timedelta(days=days)]


@given(lead=lead_times, levels=level_sets)
def test_at_most_one_level_already_past_is_raised_and_it_is_the_nearest(lead, levels):
    found = protocol.refill_reminders(T0 + lead, T0, levels)
    past = [d for d in levels if T0 + lead - timedelta(days=d) <= T0]
    raised_past = [r for r in found if r.days_before in past]
    if lead <= timedelta(0) or not past:
        assert raised_past == []
    else:
        assert raised_past == [protocol.RefillReminder(min(past), T0)]


@given(lead=lead_times, levels=level_sets)
def test_a_schedule_replacing_one_with_the_same_levels_raises_nothing_past(lead, levels):
    found = protocol.refill_reminders(T0 + lead, T0, levels, earlier_levels=levels)
    assert all(r.at > T0 for r in found)


@given(lead=lead_times, levels=level_sets)
def test_reminders_come_in_time_order_nearest_level_last(lead, levels):
    found = protocol.refill_reminders(T0 + lead, T0, levels)
    assert [r.at for r in found] == sorted(r.at for r in found)
    assert [r.days_before for r in found] == sorted((r.days_before for r in found), reverse=True)
