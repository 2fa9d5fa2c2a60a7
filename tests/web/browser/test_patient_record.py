"""The patient record in a real browser, on the tablet and the desktop: a patient screened with a baseline and
observations after a test dose, then implanted. Every chart draws (no script error), Ashworth reads 1+, and the page
never scrolls sideways at 768 px. Screenshots go to test-artifacts/screenshots/."""

import pytest
from django.utils import timezone

from tests.web.support import screened_and_implanted

from .conftest import ARTIFACTS, DESKTOP, TABLET, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHARTS = ["curve-1-ashworth", "curve-1-penn", "vital-heart_rate", "vital-blood_pressure", "vital-respiratory_rate",
          "vital-spo2", "vital-temperature", "dose-history", "reservoir-volume"]  # fmt: skip


@pytest.fixture
def patient(make_patient, ward, nurse, neurologist, second_nurse):
    patient = make_patient(ward, "BROWSER-REC", given_name="Grace", family_name="Hopper")
    screened_and_implanted(patient, nurse, neurologist, second_nurse, timezone.now())
    return patient


def open_record(chromium, live_server, user, viewport, patient):
    page = log_in(chromium, live_server, user.username, viewport)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.wait_for_load_state("load")
    return page, errors


def drawn(page, chart_id: str) -> bool:
    """Chart.js has drawn on the canvas: it registered a chart there and the canvas has a size."""
    return page.evaluate(
        "id => { const c = document.getElementById(id); return !!(c && Chart.getChart(c) && c.width > 0); }", chart_id
    )


@pytest.mark.parametrize(("viewport", "name"), [(TABLET, "tablet"), (DESKTOP, "desktop")])
def test_every_record_chart_draws_without_a_script_error_and_the_page_fits(allow_audit_flush, live_server, chromium,
                                                                          screenshot, patient, neurologist, viewport,
                                                                          name):  # fmt: skip
    page, errors = open_record(chromium, live_server, neurologist, viewport, patient)
    for chart_id in CHARTS:
        assert drawn(page, chart_id), chart_id
    assert errors == []
    page.get_by_text("Observations (6)").click()  # the table opened is the widest the page gets
    assert page.get_by_test_id("observation-ashworth").nth(2).inner_text() == "1+"
    assert page.get_by_test_id("observation-entered-by").first.inner_text() == "nina"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"record-patient-{name}")


def test_the_charts_each_have_one_y_axis_and_ashworth_ticks_read_1_plus(allow_audit_flush, live_server, chromium,
                                                                       patient, neurologist):  # fmt: skip
    page, errors = open_record(chromium, live_server, neurologist, DESKTOP, patient)
    for chart_id in CHARTS:
        axes = page.evaluate(
            "id => Object.values(Chart.getChart(document.getElementById(id)).scales).map(s => s.axis)", chart_id
        )
        assert sorted(axes) == ["x", "y"], chart_id
        width = page.evaluate("id => document.getElementById(id).getBoundingClientRect().width", chart_id)
        assert width <= 768, chart_id
    ticks = page.evaluate(
        "() => Chart.getChart(document.getElementById('curve-1-ashworth')).scales.y.ticks.map(t => t.label)"
    )
    assert ticks == ["0", "1", "1+", "2", "3", "4"]
    assert errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the vital-sign charts alone, not the whole page
    page.locator("section[aria-labelledby=vitals]").screenshot(path=str(ARTIFACTS / "record-charts-desktop.png"))
