"""Charting and the decision screens in a real browser, on a tablet and a desktop: the due time point picked and
labelled, the window warning before submit, a late entry marked with its reason in the record (S5, S6, A1); no
decision preselected on the assessment form (S7); the allowed range beside the proposed dose (T3); the programming
queue offering only what can be programmed now (T3, T9). Screenshots go to test-artifacts/screenshots/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from screening import services as screening
from screening.models import Observation
from tests.titration.support import PASSWORD, put_in_force
from titration import services as titration
from wardflow.protocol import Response

from .conftest import DESKTOP, TABLET, local_input, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VALUES = {"ashworth_mean": Decimal("3"), "penn_spasm_frequency": Decimal("3"), "sedation": "alert",
          "heart_rate": Decimal("72"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
          "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip
VITALS = {"Heart rate (/min)": "74", "Systolic BP (mmHg)": "122", "Diastolic BP (mmHg)": "78",
          "Respiratory rate (/min)": "14", "SpO2 (%)": "98", "Temperature (°C)": "36.7"}  # fmt: skip


def dosed(nurse, neurologist, patient, hours_ago: float):
    """Test dose 1 given `hours_ago` (to the minute, as charted), after its baseline."""
    given_at = (timezone.now() - timedelta(hours=hours_ago)).replace(second=0, microsecond=0)
    trial = screening.open_trial(actor=neurologist, patient=patient)
    screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                observed_at=given_at - timedelta(minutes=30), **VALUES)  # fmt: skip
    return screening.give_test_dose(actor=nurse, trial=trial, administered_at=given_at, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
def test_charting_picks_the_due_time_point_warns_before_submit_and_marks_a_late_entry(
    allow_audit_flush, live_server, chromium, screenshot, nurse, neurologist, make_patient, ward, viewport
):
    patient = make_patient(ward, "BROWSER-CHART", given_name="Ines", family_name="Moreau")
    dose = dosed(nurse, neurologist, patient, hours_ago=8.1)
    page = log_in(chromium, live_server, nurse.username, viewport)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="Chart observation").click()

    due = page.locator("input[name=time_point]:checked")
    assert due.get_attribute("value") == f"dose-{dose.pk}-8"
    assert page.get_by_label("8 h after test dose 1").is_checked()
    assert page.get_by_label("Observed at").input_value() == local_input(dose.administered_at + timedelta(hours=8))
    expect(page.get_by_test_id("time-warning")).to_be_hidden()

    # 8 h and 2 minutes: outside the 4-8 h window, said before anything is submitted.
    page.get_by_label("Observed at").fill(local_input(dose.administered_at + timedelta(hours=8, minutes=2)))
    warning = page.get_by_test_id("time-warning")
    expect(warning).to_be_visible()
    assert "outside the 4-8 h assessment window of test dose 1 (S6)" in warning.inner_text()
    if viewport is TABLET:
        screenshot(page, "charting-form-tablet")

    # The 4 h time point instead, charted four hours late, with the reason.
    page.get_by_label("4 h after test dose 1").check()
    assert page.get_by_label("Observed at").input_value() == local_input(dose.administered_at + timedelta(hours=4))
    expect(page.get_by_test_id("time-warning")).to_be_hidden()
    page.locator("fieldset", has_text="Modified Ashworth").locator("label", has_text="1+").click()
    page.locator("fieldset", has_text="Penn spasm").locator("label").nth(2).click()
    for label, value in VITALS.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Reason for a late entry (optional)").fill("Ward emergency")
    page.get_by_role("button", name="Chart observation").click()
    assert "Observation charted" in page.locator(".flash").inner_text()
    assert (
        Observation.objects.get(observed_at=dose.administered_at + timedelta(hours=4)).late_reason == "Ward emergency"
    )
    page.locator("summary", has_text="Observations").click()
    marker = page.get_by_test_id("late-entry").filter(has_text="Ward emergency")
    expect(marker).to_be_visible()
    assert marker.inner_text().startswith("late entry, charted 4 h ")
    if viewport is DESKTOP:
        screenshot(page, "charting-late-entry-desktop")


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
def test_the_assessment_form_opens_with_no_decision_picked(
    allow_audit_flush, live_server, chromium, screenshot, nurse, neurologist, make_patient, ward, viewport
):
    patient = make_patient(ward, "BROWSER-ASSESS", given_name="Tomas", family_name="Berg")
    dose = dosed(nurse, neurologist, patient, hours_ago=5)
    screening.chart_observation(actor=nurse, patient=patient, trial=dose.trial,
                                observed_at=dose.administered_at + timedelta(hours=4, minutes=30),
                                **{**VALUES, "ashworth_mean": Decimal("1")})  # fmt: skip
    page = log_in(chromium, live_server, neurologist.username, viewport)
    page.goto(f"{live_server.url}/doses/{dose.pk}/assess/")
    assert page.get_by_test_id("suggestion").inner_text() == "positive"
    assert page.locator("input[name=response]").count() == len(Response)
    assert page.locator("input[name=response]:checked").count() == 0
    assert page.get_by_test_id("hours-after-dose").all_inner_texts() == ["0.5 h before", "4.5 h"]
    if viewport is TABLET:
        screenshot(page, "decisions-assess-tablet")


def test_the_proposal_and_programming_screens_show_the_range_and_what_can_be_programmed_now(
    allow_audit_flush, live_server, chromium, screenshot, nurse, second_nurse, neurologist, make_patient, ward
):
    patient = make_patient(ward, "BROWSER-PROPOSE", given_name="Lena", family_name="Vogel")
    dose = dosed(nurse, neurologist, patient, hours_ago=5)
    screening.chart_observation(actor=nurse, patient=patient, trial=dose.trial,
                                observed_at=dose.administered_at + timedelta(hours=4, minutes=30),
                                **{**VALUES, "ashworth_mean": Decimal("1")})  # fmt: skip
    screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                              duration_hours=Decimal("6"))  # fmt: skip
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=dose.trial,
                                  implanted_at=timezone.now(), model="SynchroMed II", serial="SN-PROPOSE",
                                  reservoir_ml=Decimal("20"), alarm_ml=Decimal("2"),
                                  concentration_mcg_per_ml=Decimal("500"), initial_volume_ml=Decimal("20"))  # fmt: skip
    initial = titration.approve_dose_change(actor=neurologist, change=pump.dose_changes.get(), password=PASSWORD)
    put_in_force(nurse, initial, timezone.now(), "100", reader=second_nurse)

    desk = log_in(chromium, live_server, nurse.username, DESKTOP)
    desk.goto(f"{live_server.url}/pumps/{pump.pk}/propose/")
    assert "titration: 110.00 to 130.00 mcg/day (T3)" in desk.get_by_test_id("help-new_daily_dose_mcg").inner_text()
    screenshot(desk, "decisions-propose-desktop")
    desk.get_by_label("Kind").select_option("titration")
    desk.get_by_label("New daily dose (mcg/day)").fill("120")
    desk.get_by_role("button", name="Propose").click()
    step = pump.dose_changes.get(new_daily_dose_mcg=Decimal("120"))
    titration.approve_dose_change(actor=neurologist, change=step, password=PASSWORD)

    tablet = log_in(chromium, live_server, nurse.username, TABLET)
    tablet.goto(f"{live_server.url}/programming/")
    assert tablet.get_by_role("link", name="Confirm programming").count() == 0
    assert "(T3)" in tablet.get_by_test_id("why-not-now").inner_text()
    screenshot(tablet, "decisions-programming-queue-tablet")
