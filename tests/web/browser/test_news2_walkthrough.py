"""V1 and V2 in a real browser: a nurse charts a dangerous baseline on the tablet, sees each abnormal value flagged
and the NEWS2 as she types, and the test-dose form then shows the pre-dose check refusing the dose. Screenshots go to
test-artifacts/screenshots/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from screening import services as screening
from screening.models import Observation, TestDose

from .conftest import TABLET, local_input, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# RR 6 (3) + SpO2 84 (3) + pulse 48 (1) + systolic BP 88 (3) + temperature 38.9 (1), alert, on air: NEWS2 11.
DANGEROUS = {"Heart rate (/min)": "48", "Systolic BP (mmHg)": "88", "Diastolic BP (mmHg)": "50",
             "Respiratory rate (/min)": "6", "SpO2 (%)": "84", "Temperature (°C)": "38.9"}  # fmt: skip


def test_a_dangerous_baseline_is_flagged_and_refuses_the_test_dose(allow_audit_flush, live_server, chromium,
                                                                    screenshot, nurse, neurologist, make_patient,
                                                                    ward):  # fmt: skip
    patient = make_patient(ward, "BROWSER-NEWS2", given_name="Ada", family_name="Okafor")
    screening.open_trial(actor=neurologist, patient=patient)

    tablet = log_in(chromium, live_server, nurse.username, TABLET)
    tablet.goto(f"{live_server.url}/patients/{patient.pk}/")
    tablet.get_by_role("link", name="Chart observation").click()
    tablet.get_by_label("Observed at").fill(local_input(timezone.now() - timedelta(minutes=10)))
    tablet.locator("fieldset", has_text="Modified Ashworth").get_by_text("3", exact=True).click()
    tablet.locator("fieldset", has_text="Penn spasm").get_by_text("3", exact=True).click()
    for label, value in DANGEROUS.items():
        tablet.get_by_label(label).fill(value)
    for flagged in ("respiratory_rate", "spo2", "heart_rate", "systolic_bp", "temperature_c"):
        assert tablet.get_by_test_id(f"flag-{flagged}").is_visible()
    assert tablet.get_by_test_id("flag-respiratory_rate").inner_text() == "Abnormal respiratory rate: NEWS2 3"
    assert tablet.get_by_test_id("news2-total").inner_text() == "NEWS2 (V1): 11 · high risk"
    screenshot(tablet, "11-nurse-news2-flags")
    tablet.get_by_role("button", name="Chart observation").click()
    assert "NEWS2 11 (high risk, V1)" in tablet.locator(".flash").inner_text()
    assert Observation.objects.get().news2_score == 11
    assert "11 · high risk" in tablet.get_by_test_id("latest-news2").inner_text()

    tablet.get_by_role("link", name="Give test dose").click()
    assert tablet.get_by_test_id("predose-result").inner_text() == "refused"
    assert tablet.get_by_test_id("predose-news2").inner_text() == "11 · high risk"
    assert tablet.get_by_label("Override reason (neurologist, when the pre-dose check refuses; V2)").count() == 0
    screenshot(tablet, "12-nurse-predose-check")
    tablet.get_by_label("Lot / ampule").fill("LOT-2611")
    tablet.get_by_label("catheter").check()
    tablet.get_by_label("Injection over (seconds)").fill("90")
    tablet.get_by_label("Resuscitation equipment is at hand").check()
    tablet.get_by_role("button", name="Record test dose").click()
    assert "V2: the baseline NEWS2 is 11 (high risk)" in tablet.locator(".error[role=alert]").inner_text()
    assert not TestDose.objects.exists()
