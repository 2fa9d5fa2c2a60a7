"""A concentration change at a refill in a real browser (T15, R6, T9, T12): a nurse on a tablet refills a 500 mcg/mL
pump with 2000 mcg/mL and the program for it, a neurologist signs acknowledging the transition warning, a nurse
programs the pump and a second nurse reads it back. Screenshots go to test-artifacts/screenshots/."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from tests.titration.support import put_in_force
from titration import services as titration
from titration.models import DoseChange, Pump

from .conftest import DESKTOP, PASSWORD, TABLET, local_input, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running_pump(nurse, second_nurse, neurologist, make_patient, implant_directly, ward) -> Pump:
    """A pump of 500 mcg/mL with 0.2 mL of dead space, 100 mcg/day in force since 20 days ago."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=20)
    patient = make_patient(ward, "BROWSER-T15", given_name="Ada", family_name="Moreau")
    pump = implant_directly(patient, neurologist, implanted_at=start, serial="SN-T15")
    Pump.objects.filter(pk=pump.pk).update(dead_space_ml=Decimal("0.2"))
    initial = DoseChange.objects.create(pump=pump, kind="initial", new_daily_dose_mcg=Decimal("100"),
                                        proposed_by=neurologist, proposed_at=start, earliest_at=start)  # fmt: skip
    with time_machine.travel(start, tick=False):  # signed and programmed at the implant
        initial = titration.approve_dose_change(actor=neurologist, change=initial, password=PASSWORD)
        put_in_force(nurse, initial, start, "100", reader=second_nurse)
    return Pump.objects.get(pk=pump.pk)


def test_a_concentration_change_at_a_refill_in_the_browser(allow_audit_flush, live_server, chromium, screenshot, nurse,
                                                           second_nurse, neurologist, running_pump):  # fmt: skip
    now = timezone.now().replace(second=0, microsecond=0)

    # The nurse refills with 2000 mcg/mL and enters the program for it: the same 100 mcg/day.
    tablet = log_in(chromium, live_server, nurse.username, TABLET)
    tablet.goto(f"{live_server.url}/patients/{running_pump.patient_id}/")
    tablet.get_by_role("link", name="Record refill").click()
    tablet.get_by_label("Refilled at").fill(local_input(now))
    tablet.get_by_label("Residual volume removed (mL)").fill("14")
    tablet.get_by_label("Volume added (mL)").fill("20")
    tablet.get_by_label("Concentration (mcg/mL)").fill("2000")
    tablet.get_by_label("Lot").fill("LOT-2000")
    tablet.get_by_label("Accessed through the reservoir septum").check()
    tablet.get_by_label("Aseptic technique").check()
    tablet.get_by_label("New strength only: daily dose of its new program (mcg/day)").fill("100")
    screenshot(tablet, "13-nurse-refill-concentration-change")
    tablet.get_by_role("button", name="Record refill").click()
    flashes = tablet.locator(".flash").all_inner_texts()
    assert any("Transition: 96.0 h at 25.00 mcg/day" in text for text in flashes)
    assert any(text.startswith("T15: for about 96.0 h") for text in flashes)
    change = DoseChange.objects.get(pump=running_pump, kind="concentration_change")
    assert change.state == "proposed" and change.concentration_mcg_per_ml == Decimal("2000")

    # The neurologist sees the transition and signs, acknowledging its warning.
    desk = log_in(chromium, live_server, neurologist.username, DESKTOP)
    desk.goto(f"{live_server.url}/dose-changes/{change.pk}/approve/")
    assert "96.0 h at 25.00 mcg/day" in desk.get_by_test_id("transition").inner_text()
    desk.get_by_label("Your user name").fill(neurologist.username)
    desk.get_by_label("Your password (electronic signature)").fill(PASSWORD)
    desk.get_by_role("button", name="Sign and approve").click()
    assert "T15" in desk.locator(".errors, .error, [role=alert]").first.inner_text()
    desk.get_by_label("Your password (electronic signature)").fill(PASSWORD)
    desk.get_by_label("I have read the warnings (T8 range, T15 transition)").check()
    screenshot(desk, "14-neurologist-signs-transition")
    desk.get_by_role("button", name="Sign and approve").click()
    assert desk.locator(".flash").inner_text().startswith(f"Approved by {neurologist.display_name()} at ")

    # The nurse programs the new strength blind, seeing how long the transition lasts but not the approved values.
    tablet.goto(f"{live_server.url}/dose-changes/{change.pk}/program/")
    transition = tablet.get_by_test_id("transition").inner_text()
    assert "96.0 h" in transition and "withdrawal" in transition and "2000" not in transition
    tablet.get_by_label("Daily dose read back from the pump (mcg/day)").fill("100")
    tablet.get_by_label("Concentration read back from the pump (mcg/mL)").fill("2000")
    screenshot(tablet, "15-program-new-strength")
    tablet.get_by_role("button", name="Confirm programming").click()

    change.refresh_from_db()
    if change.state == "programmed":  # T12: a second nurse reads the pump back
        reader = log_in(chromium, live_server, second_nurse.username, TABLET)
        reader.goto(f"{live_server.url}/dose-changes/{change.pk}/read-back/")
        reader.get_by_label("Daily dose read back from the pump (mcg/day)").fill("100")
        reader.get_by_label("Concentration read back from the pump (mcg/mL)").fill("2000")
        reader.get_by_role("button", name="Confirm read-back").click()
        change.refresh_from_db()
    assert change.state == "active"
    pump = Pump.objects.get(pk=running_pump.pk)
    assert pump.concentration_mcg_per_ml == Decimal("2000")
    assert pump.refill_due_at > now + timedelta(days=300)  # (20 - 2) mL at 0.05 mL/day, from the refill
