"""How every displayed time reads on the ward: today's times as a clock, other days with their date (and a year only
when it is not this one), and a relative hint; days are the ward's local days (Europe/London)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from wardflow.clinical_time import clock_text, shown_due, shown_event, ward_local

NOW = datetime(2026, 3, 21, 14, 40, tzinfo=UTC)  # Sat 21 Mar 2026, 14:40 GMT on the ward


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NOW - timedelta(hours=3), "11:40"),  # earlier today
        (NOW - timedelta(days=1), "Fri 20 Mar 14:40"),  # yesterday
        (NOW + timedelta(days=8), "Sun 29 Mar 15:40"),  # next week, the clocks gone forward (BST)
        (datetime(2027, 1, 5, 9, 0, tzinfo=UTC), "Tue 5 Jan 2027 09:00"),  # next year
        (datetime(2025, 12, 31, 23, 0, tzinfo=UTC), "Wed 31 Dec 2025 23:00"),  # last year
    ],
    ids=["today", "yesterday", "next-week", "next-year", "last-year"],
)
def test_a_time_reads_with_its_date_unless_it_is_today(moment, text):
    assert clock_text(moment, NOW) == text


def test_just_after_midnight_on_the_ward_is_another_day_though_utc_says_the_same_day():
    now = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 BST on Wed 1 July
    after_midnight = datetime(2026, 7, 1, 23, 10, tzinfo=UTC)  # 00:10 BST on Thu 2 July, still 1 July in UTC
    assert clock_text(after_midnight, now) == "Thu 2 Jul 00:10"
    assert clock_text(now - timedelta(hours=2), now) == "21:30"


def test_a_time_of_year_one_is_shown_in_utc_with_its_date_and_marked():
    assert clock_text(datetime(1, 1, 1, tzinfo=UTC), NOW) == "Mon 1 Jan 0001 00:00 UTC"


def test_a_message_may_ask_for_the_date_even_today():
    assert clock_text(NOW - timedelta(hours=3), NOW, always_date=True) == "Sat 21 Mar 11:40"


@pytest.mark.parametrize(
    ("offset", "event", "due"),
    [
        (timedelta(seconds=-20), "just now", "due now"),
        (timedelta(minutes=-15), "15 min ago", "15 min overdue"),
        (timedelta(hours=2, minutes=10), "in 2 h", "in 2 h"),
        (timedelta(days=-1, hours=-2), "1 day ago", "1 day overdue"),
        (timedelta(days=-4, hours=-3), "4 days ago", "4 days overdue"),
        (timedelta(days=120), "in 120 days", "in 120 days"),
    ],
)
def test_the_relative_hint_says_how_long_ago_or_ahead(offset, event, due):
    assert shown_event(NOW + offset, NOW).hint == event
    assert shown_due(NOW + offset, NOW).hint == due


def test_only_a_time_reached_is_overdue():
    assert shown_due(NOW, NOW).overdue
    assert not shown_due(NOW + timedelta(minutes=1), NOW).overdue
    assert not shown_event(NOW - timedelta(days=3), NOW).overdue


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_every_time_not_today_carries_its_date_and_a_year_only_when_not_this_year(moment):
    parts = clock_text(moment, NOW).split()
    local = ward_local(moment)
    if local.date() == ward_local(NOW).date():
        assert parts == [f"{local:%H:%M}"]
    else:
        assert parts[:3] == [f"{local:%a}", str(local.day), f"{local:%b}"]
        assert (len(parts) == 5) == (local.year != 2026)


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_a_due_hint_is_overdue_exactly_when_past_by_a_minute(offset):
    hint = shown_due(NOW + offset, NOW).hint
    assert hint.endswith("overdue") == (offset <= -timedelta(minutes=1))
    assert hint.startswith("in ") == (offset >= timedelta(minutes=1))


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("tag", "moment", "html"),
    [
        (
            "when",
            NOW - timedelta(days=3),
            '<time datetime="2026-03-18T14:40:00+00:00" class="clock">Wed 18 Mar 14:40'
            '</time> <span class="hint">3 days ago</span>',
        ),
        (
            "due",
            NOW - timedelta(days=4),
            '<time datetime="2026-03-17T14:40:00+00:00" class="clock overdue">Tue 17 Mar '
            '14:40</time> <span class="hint overdue">4 days overdue</span>',
        ),
        (
            "due",
            NOW + timedelta(hours=1),
            '<time datetime="2026-03-21T15:40:00+00:00" class="clock">15:40</time> <span class="hint">in 1 h</span>',
        ),
    ],
)
def test_the_template_filters_render_a_time_element_with_its_hint(tag, moment, html):
    rendered = Template(f"{{% load ward %}}{{{{ moment|{tag} }}}}").render(Context({"moment": moment}))
    assert rendered == html


def test_the_template_filters_render_nothing_for_no_time():
    assert Template("{% load ward %}[{{ none|when }}{{ none|due }}]").render(Context({"none": None})) == "[]"
