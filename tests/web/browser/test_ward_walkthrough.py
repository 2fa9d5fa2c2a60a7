"""The ward's day in a real browser: a nurse on a tablet gives a test dose and charts, a neurologist assesses on
the suggestion and signs a dose change, a nurse confirms the programming by blind re-entry, a second nurse reads the
pump back blind (T12), and an administrator filters the audit trail and downloads it. Screenshots of each page go to
test-artifacts/screenshots/."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from screening import services as screening
from screening.models import ScreeningTrial
from titration import services as titration
from titration.models import DoseChange
from wardflow.audit.selectors import verify_chain

from .conftest import DESKTOP, PASSWORD, TABLET, local_input, log_in

VITALS = {"Heart rate (/min)": "74", "Systolic BP (mmHg)": "122", "Diastolic BP (mmHg)": "78",
          "Respiratory rate (/min)": "14", "SpO2 (%)": "98", "Temperature (°C)": "36.7"}  # fmt: skip


def test_a_ward_day_in_the_browser(allow_audit_flush, live_server, chromium, screenshot, nurse, second_nurse,
                                   neurologist, administrator, make_patient, ward):  # fmt: skip
    now = timezone.now()
    patient = make_patient(ward, "BROWSER-1", given_name="Maria", family_name="Lopez")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    baseline = {"ashworth_mean": Decimal("3"), "penn_spasm_frequency": Decimal("3"), "sedation": "alert",
                "heart_rate": Decimal("72"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
                "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip
    screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                observed_at=now - timedelta(hours=5, minutes=30), **baseline)  # fmt: skip

    # A nurse on a tablet gives test dose 1 (charted late, 5 h ago) and charts the 4.5 h observation.
    tablet = log_in(chromium, live_server, nurse.username, TABLET)
    assert tablet.get_by_test_id("role").inner_text() == "nurse"
    screenshot(tablet, "01-nurse-ward-board")
    tablet.get_by_role("link", name="Lopez, Maria").click()
    tablet.get_by_role("link", name="Give test dose").click()
    tablet.get_by_label("Given at").fill(local_input(now - timedelta(hours=5)))
    tablet.get_by_label("Lot / ampule").fill("LOT-2611")
    tablet.get_by_label("catheter").check()
    tablet.get_by_label("Injection over (seconds)").fill("90")
    tablet.get_by_label("Resuscitation equipment is at hand").check()
    screenshot(tablet, "02-nurse-test-dose-form")
    tablet.get_by_role("button", name="Record test dose").click()
    assert "Test dose 1 recorded" in tablet.locator(".flash").inner_text()
    tablet.get_by_role("link", name="Chart observation").click()
    tablet.get_by_label("Observed at").fill(local_input(now - timedelta(minutes=30)))
    tablet.locator("fieldset", has_text="Modified Ashworth").get_by_text("1+", exact=True).click()
    tablet.locator("fieldset", has_text="Penn spasm").get_by_text("2", exact=True).click()
    for label, value in VITALS.items():
        tablet.get_by_label(label).fill(value)
    screenshot(tablet, "03-nurse-observation-form")
    tablet.get_by_role("button", name="Chart observation").click()
    assert "Observation charted" in tablet.locator(".flash").inner_text()
    screenshot(tablet, "04-patient-page-observing")

    # The neurologist sees the suggestion and decides.
    desk = log_in(chromium, live_server, neurologist.username, DESKTOP)
    desk.goto(f"{live_server.url}/patients/{patient.pk}/")
    desk.get_by_role("link", name="Assess response").click()
    assert desk.get_by_test_id("suggestion").inner_text() == "positive"
    screenshot(desk, "05-neurologist-assessment")
    desk.locator("fieldset", has_text="Response").get_by_text("positive", exact=True).click()
    desk.get_by_label("Response lasted (hours, positive only)").fill("6.5")
    desk.get_by_role("button", name="Record assessment").click()
    assert "Response assessed" in desk.locator(".flash").inner_text()
    assert ScreeningTrial.objects.get(pk=trial.pk).state == "candidate"

    # After the implant, the neurologist signs the initial dose change with a re-entered password.
    pump = titration.implant_pump(
        actor=neurologist,
        patient=patient,
        screening_trial=trial,
        implanted_at=timezone.now(),
        model="SynchroMed II",
        serial="SN-BROWSER",
        reservoir_ml=Decimal("20"),
        alarm_ml=Decimal("2"),
        concentration_mcg_per_ml=Decimal("500"),
        initial_volume_ml=Decimal("20"),
    )
    desk.get_by_role("link", name="Approvals").click()
    screenshot(desk, "06-neurologist-approval-queue")
    desk.get_by_role("link", name="Review and sign").click()
    desk.get_by_label("Your user name").fill(neurologist.username)  # D5: the first signature of the session
    desk.get_by_label("Your password (electronic signature)").fill(PASSWORD)
    screenshot(desk, "07-neurologist-signature")
    desk.get_by_role("button", name="Sign and approve").click()
    assert desk.locator(".flash").inner_text().startswith(f"Approved by {neurologist.display_name()} at ")

    # The nurse confirms the programming without seeing the approved values (T12).
    tablet.get_by_role("link", name="Programming").click()
    tablet.get_by_role("link", name="Confirm programming").click()
    form = tablet.locator("form.card")
    assert (
        "100" not in form.inner_text()
        and tablet.get_by_label("Daily dose read back from the pump (mcg/day)").input_value() == ""
    )
    screenshot(tablet, "08-nurse-blind-programming")
    tablet.get_by_label("Daily dose read back from the pump (mcg/day)").fill("100")
    tablet.get_by_label("Concentration read back from the pump (mcg/mL)").fill("500")
    tablet.get_by_role("button", name="Confirm programming").click()
    assert "a second clinician of the ward reads the pump back" in tablet.locator(".flash").inner_text()
    assert DoseChange.objects.get(pump=pump).state == "programmed"

    # A second nurse reads the pump back, blind as well, and only then is the change active (T12).
    reader = log_in(chromium, live_server, second_nurse.username, TABLET)
    reader.get_by_role("link", name="Programming").click()
    reader.get_by_role("link", name="Read back").click()
    assert "100" not in reader.locator("main").inner_text()
    assert reader.get_by_label("Daily dose read back from the pump (mcg/day)").input_value() == ""
    screenshot(reader, "08b-second-nurse-read-back")
    reader.get_by_label("Daily dose read back from the pump (mcg/day)").fill("100")
    reader.get_by_label("Concentration read back from the pump (mcg/mL)").fill("500")
    reader.get_by_role("button", name="Confirm read-back").click()
    assert "the new program is active" in reader.locator(".flash").inner_text()
    assert DoseChange.objects.get(pump=pump).state == "active"
    tablet.reload()
    tablet.wait_for_function("document.querySelectorAll('canvas.chart').length >= 2")
    screenshot(tablet, "09-patient-page-implanted-charts")

    # The administrator reviews the audit trail and downloads it.
    admin = log_in(chromium, live_server, administrator.username, DESKTOP)
    assert admin.get_by_test_id("chain-status").inner_text().startswith("Chain intact")
    admin.get_by_label("Action").fill("dose_change.programmed")
    admin.get_by_role("button", name="Filter").click()
    assert admin.get_by_test_id("audit-row").count() == 1
    screenshot(admin, "10-administrator-audit")
    with admin.expect_download() as download:
        admin.get_by_test_id("csv").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [r["action"] for r in rows] == ["dose_change.programmed"]
    assert rows[0]["actor"] == nurse.username
    assert verify_chain().ok
