"""The dead ends closed, in a real browser: a nurse on the tablet charts an infection (P1) and later its resolution,
and learns of the infection on opening the give-dose page; the neurologist at the desk is refused the resumption
while the infection stands (P1), resumes the trial once it is resolved (S10), cancels another trial and moves a pump
to maintenance (T5); the caution strip shows on the dose pages and its markers on the board. Screenshots go to
test-artifacts/screenshots/."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from screening import services as screening
from screening.models import ScreeningTrial
from titration.models import Pump
from wardflow.protocol import Phase, TrialState

from .conftest import DESKTOP, TABLET, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NURSE_LINE = ("Opening screening, resuming or cancelling a trial, approving dose changes and moving a pump to "
              "maintenance are the neurologist's acts.")  # fmt: skip


def test_a_neurologist_resumes_cancels_and_moves_to_maintenance_after_the_nurse_charts_the_infection(
    allow_audit_flush, live_server, chromium, screenshot, nurse, neurologist, make_patient, implant_directly, ward
):
    ada = make_patient(ward, "DE-ADA", given_name="Ada", family_name="Okafor", date_of_birth=date(1955, 6, 1),
                       oral_antispasmodics="oral baclofen 10 mg tid")  # fmt: skip
    resumed = screening.open_trial(actor=neurologist, patient=ada)
    ben = make_patient(ward, "DE-BEN", given_name="Ben", family_name="Lund")
    cancelled = screening.open_trial(actor=neurologist, patient=ben)
    cleo = make_patient(ward, "DE-CLEO", given_name="Cleo", family_name="Marsh", history_of_withdrawal=True)
    pump = implant_directly(cleo, neurologist, timezone.now() - timedelta(days=10))

    tablet = log_in(chromium, live_server, nurse.username, TABLET)
    tablet.goto(f"{live_server.url}/patients/{ada.pk}/")
    assert tablet.get_by_test_id("others-acts").inner_text() == NURSE_LINE
    assert tablet.get_by_role("link", name="Resume trial").count() == 0
    screenshot(tablet, "deadends-patient-acts-nurse-tablet")
    tablet.get_by_role("link", name="Chart active infection").click()
    tablet.get_by_label("Note (optional)", exact=False).fill("fever, urine culture sent")
    tablet.get_by_role("button", name="Chart active").click()
    assert "Infection charted active (P1)." in tablet.locator(".flash").inner_text()
    resumed.refresh_from_db()
    assert resumed.state == TrialState.SUSPENDED

    tablet.goto(f"{live_server.url}/trials/{resumed.pk}/dose/")
    infection = tablet.get_by_test_id("caution-strip").locator('[data-kind="infection"]')
    assert infection.is_visible() and "Active infection charted" in infection.inner_text()
    assert tablet.get_by_test_id("caution-strip").locator('[data-kind="antispasmodics"]').is_visible()
    screenshot(tablet, "cautions-give-dose-tablet")

    desk = log_in(chromium, live_server, neurologist.username, DESKTOP)
    desk.goto(f"{live_server.url}/trials/{resumed.pk}/resume/")
    assert "chart the active infection resolved" in desk.get_by_test_id("refusal").inner_text()

    tablet.goto(f"{live_server.url}/patients/{ada.pk}/")
    tablet.get_by_role("link", name="Chart infection resolved").click()
    tablet.get_by_label("Note (optional)", exact=False).fill("culture negative, afebrile 48 h")
    tablet.get_by_role("button", name="Chart resolved").click()
    assert "Infection charted resolved (P1)." in tablet.locator(".flash").inner_text()

    desk.goto(f"{live_server.url}/patients/{ada.pk}/")
    desk.get_by_role("link", name="Resume trial").click()
    assert desk.get_by_test_id("refusal").count() == 0
    desk.get_by_label("Reason").fill("infection resolved, screening resumes")
    screenshot(desk, "deadends-resume-trial-desktop")
    desk.get_by_role("button", name="Resume").click()
    assert "Screening trial resumed (S10)." in desk.locator(".flash").inner_text()
    resumed.refresh_from_db()
    assert resumed.state == TrialState.AWAITING_DOSE

    desk.goto(f"{live_server.url}/patients/{ben.pk}/")
    desk.get_by_role("link", name="Cancel trial").click()
    desk.get_by_label("Reason").fill("family withdrew consent")
    desk.get_by_role("button", name="Cancel trial").click()
    assert ScreeningTrial.objects.get(pk=cancelled.pk).state == TrialState.CANCELLED

    desk.goto(f"{live_server.url}/patients/{cleo.pk}/")
    desk.get_by_role("link", name="Move to maintenance").click()
    desk.get_by_label("Reason for the change of phase (T5)").fill("dose stable for three months")
    desk.get_by_role("button", name="Move to maintenance").click()
    assert "moved to the maintenance phase (T5)" in desk.locator(".flash").inner_text()
    assert Pump.objects.get(pk=pump.pk).phase == Phase.MAINTENANCE

    desk.goto(f"{live_server.url}/pumps/{pump.pk}/propose/")
    assert desk.get_by_test_id("caution-strip").locator('[data-kind="withdrawal"]').is_visible()

    desk.goto(f"{live_server.url}/ward/")
    markers = desk.get_by_test_id("caution-markers")
    assert markers.first.is_visible()
    assert "P4 high withdrawal risk" in desk.get_by_test_id("board-row").filter(has_text="Marsh").inner_text()
    assert "P3 oral antispasmodics: taper" in desk.get_by_test_id("board-row").filter(has_text="Okafor").inner_text()
    screenshot(desk, "cautions-board-desktop")
