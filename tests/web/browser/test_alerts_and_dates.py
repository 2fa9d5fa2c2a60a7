"""Alerts and dates in a real browser, on the tablet and the desktop: five missed hours are one inbox row with its
count, its details open on a tap, the navigation counts the open problems and the urgent ones, and the board says the
date of a refill months away and how many days an observation is overdue. Screenshots go to
test-artifacts/screenshots/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from alerts import services as alerts
from alerts.models import DueCheck
from screening import services as screening
from screening.kinds import AlertKind
from screening.kinds import CheckKind as ScreeningCheckKind
from titration.kinds import CheckKind as TitrationCheckKind
from wardflow.protocol import Severity
from wardflow.staff.models import Role

from .conftest import DESKTOP, TABLET, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def refill_due(now):
    return now + timedelta(days=120, hours=1)


def ward_with_alerts(nurse, neurologist, chart_baseline, make_patient, ward):
    """Moss missed five hourly observations after her test dose; Reyes's refill reminder is four months away; Ito's
    observation has been overdue for three days and an urgent S10 alert about her waits for a neurologist."""
    now = timezone.now()
    moss = make_patient(ward, "BR-AL-1", given_name="Ada", family_name="Moss")
    trial = screening.open_trial(actor=neurologist, patient=moss)
    given = now - timedelta(hours=5, minutes=30)
    chart_baseline(nurse, trial, given)
    screening.give_test_dose(actor=nurse, trial=trial, administered_at=given, dose_mcg=Decimal("50"),
                             volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                             resuscitation_ready=True)  # fmt: skip
    for hour in range(1, 6):
        alerts.dispatch_due_checks(now=given + timedelta(hours=hour, minutes=20))
    reyes = make_patient(ward, "BR-AL-2", given_name="Luis", family_name="Reyes")
    DueCheck.objects.create(kind=TitrationCheckKind.REFILL_REMINDER, patient=reyes, due_at=refill_due(now))
    ito = make_patient(ward, "BR-AL-3", given_name="Mei", family_name="Ito")
    slot = now - timedelta(days=3, hours=2)
    DueCheck.objects.create(kind=ScreeningCheckKind.OBSERVATION_OVERDUE, patient=ito, due_at=now + timedelta(hours=1),
                            payload={"slot_due_at": slot.isoformat()})  # fmt: skip
    with transaction.atomic():
        alerts.raise_alert(kind=AlertKind.SERIOUS_ADVERSE_EVENT, severity=Severity.URGENT, patient=ito, rule="S10",
                           message="S10: respiratory depression charted.", target_role=Role.NEUROLOGIST,
                           subject=ito)  # fmt: skip


def board_row(page, family_name):
    return page.get_by_test_id("board-row").filter(has_text=family_name)


@pytest.mark.parametrize(("viewport", "size"), [(TABLET, "tablet"), (DESKTOP, "desktop")], ids=["tablet", "desktop"])
def test_the_inbox_groups_missed_hours_and_the_board_says_the_dates(allow_audit_flush, live_server, chromium,
                                                                     screenshot, nurse, neurologist, chart_baseline,
                                                                     make_patient, ward, viewport, size):  # fmt: skip
    ward_with_alerts(nurse, neurologist, chart_baseline, make_patient, ward)
    page = log_in(chromium, live_server, nurse.username, viewport)
    page.goto(f"{live_server.url}/ward/")

    assert page.get_by_test_id("alert-count").text_content() == "2 open"  # Moss's five alerts are one problem
    assert page.get_by_test_id("urgent-count").inner_text() == "1 urgent"
    refill = board_row(page, "Reyes").get_by_test_id("next-due").inner_text()
    assert refill.startswith("Refill reminder")
    due = timezone.localtime(refill_due(timezone.now()))
    assert f"{due:%a} {due.day} {due:%b}" in refill  # months away: the day and date, not just "Sun 14:40"
    assert "in 120 days" in refill
    overdue = board_row(page, "Ito").get_by_test_id("next-due").inner_text()
    assert "3 days overdue" in overdue
    assert board_row(page, "Moss").get_by_text("A1 observation overdue \N{MULTIPLICATION SIGN}5").is_visible()
    if size == "tablet":
        screenshot(page, "alerts-board-dates-tablet")

    page.get_by_test_id("nav-alerts").click()
    rows = page.get_by_test_id("alert-row")
    assert rows.count() == 2
    moss = rows.filter(has_text="Moss")
    assert moss.get_by_test_id("problem-count").inner_text() == "5 alerts"
    assert "Escalated" in moss.get_by_test_id("problem-state").inner_text()  # the early hours went unacknowledged
    details = moss.locator(".alert-details")
    assert not details.is_visible()
    moss.get_by_text("Details").click()
    assert details.is_visible()
    assert details.locator("li").count() == 5
    ito = rows.filter(has_text="Ito")
    assert "Urgent alerts must be acknowledged by a neurologist." in ito.get_by_test_id("read-only").inner_text()
    assert ito.get_by_role("button", name="Acknowledge").count() == 0
    screenshot(page, f"alerts-inbox-{size}")

    moss.get_by_role("button", name="Acknowledge all 5").click()
    expect(rows.filter(has_text="Moss")).to_contain_text(f"Acknowledged by {nurse.username}")
