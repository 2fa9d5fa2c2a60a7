"""Every main page of every role, on a ward tablet (768 x 1024) and a desktop: axe-core finds no accessibility
violation of any impact, no tap target is smaller than 44 x 44 px, no page scrolls sideways on the tablet, and
every dose decision page shows the caution strip.
Each page is screenshotted at both sizes (page-<name>-tablet, page-<name>-desktop)."""

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from dev.demo import VITALS, seed_demo_patients
from screening import services as screening
from titration import services as titration
from titration.models import DoseChange
from wardflow.patients.models import Patient
from wardflow.protocol import DoseChangeKind, Response, Severity
from wardflow.staff.models import Role

from .conftest import DESKTOP, PASSWORD, TABLET, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
MIN_TARGET_PX = 44
# Visible interactive elements smaller than a fingertip: what, where and how big.
SMALL_TARGETS = """() => {
  const found = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary, [role=button]')) {
    if (el.type === 'hidden') continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= 0 || box.bottom <= 0) continue;  // off screen: skip link
    if (box.width < MIN || box.height < MIN) {
      const label = (el.innerText || el.value || el.name || el.id || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
      found.push(`${el.tagName.toLowerCase()} "${label}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return found;
}""".replace("MIN", str(MIN_TARGET_PX))
AXE_VIOLATIONS = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""
SIDEWAYS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# P1, P3-P5, V1: the pages where a dose is decided, each headed by the patient's caution strip.
DOSE_DECISION_PAGES = {"give-dose", "assess", "implant", "propose", "approve", "program", "read-back", "refill"}


def _observe(nurse, patient, trial, at, ashworth="3", penn="3"):
    scores = {"ashworth_mean": Decimal(ashworth), "penn_spasm_frequency": Decimal(penn)}
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at, **scores, **VITALS)


def _screened(nurse, neurologist, ward, mrn, given, family, *, assess=True):
    """A patient whose test dose 1 (6.5 h ago) was positive for 6 h: a candidate for the implant (T1)."""
    now = timezone.now()
    patient = Patient.objects.create(ward=ward, mrn=mrn, given_name=given, family_name=family,
                                     date_of_birth=timezone.localdate() - timedelta(days=50 * 365),
                                     spasticity_origin="spinal")  # fmt: skip
    trial = screening.open_trial(actor=neurologist, patient=patient)
    _observe(nurse, patient, trial, now - timedelta(hours=7))
    given_at = now - timedelta(hours=6, minutes=30)
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=given_at, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="SWEEP", route="lumbar_puncture",
                                    injection_seconds=90, resuscitation_ready=True)  # fmt: skip
    _observe(nurse, patient, trial, now - timedelta(hours=2), "1.5", "1")
    if assess:
        screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                                  duration_hours=Decimal("6"))  # fmt: skip
    trial.refresh_from_db()
    return patient, trial


def _implanted(nurse, neurologist, ward, mrn, given, family, serial):
    patient, trial = _screened(nurse, neurologist, ward, mrn, given, family)
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial,
                                  implanted_at=timezone.now(), model="Sweep pump 40", serial=serial,
                                  reservoir_ml=Decimal("40"), alarm_ml=Decimal("2"),
                                  concentration_mcg_per_ml=Decimal("500"), initial_volume_ml=Decimal("40"))  # fmt: skip
    change = pump.dose_changes.get()
    titration.approve_dose_change(actor=neurologist, change=change, password=PASSWORD)
    return pump, DoseChange.objects.get(pk=change.pk)


@pytest.fixture
def ward_story(nurse, second_nurse, neurologist, administrator, ward):
    """The demo ward's three patients (awaiting dose 1, observing dose 1, implanted and active), and around them a
    candidate awaiting the implant, a pump awaiting programming, one awaiting its read-back, a refill, a dose change
    awaiting signature and open alerts."""
    seed_demo_patients(ward, nurse, neurologist, PASSWORD, second_nurse=second_nurse)
    awaiting, observing, active = (Patient.objects.get(mrn=f"DEMO-00{n}") for n in (1, 2, 3))
    _, candidate_trial = _screened(nurse, neurologist, ward, "SWEEP-4", "Emmy", "Noether")
    _, to_program = _implanted(nurse, neurologist, ward, "SWEEP-5", "Marie", "Curie", "SWEEP-PUMP-5")
    _, to_read = _implanted(nurse, neurologist, ward, "SWEEP-6", "Rosalind", "Franklin", "SWEEP-PUMP-6")
    entry = {"daily_dose_mcg": to_read.new_daily_dose_mcg, "concentration_mcg_per_ml": Decimal("500")}
    to_read = titration.confirm_programming(actor=nurse, change=to_read, programmed_at=timezone.now(), **entry)
    pump = active.pumps.get()
    titration.record_refill(actor=nurse, pump=pump, refilled_at=timezone.now(), volume_removed_ml=Decimal("39"),
                            volume_added_ml=Decimal("39"), concentration_mcg_per_ml=Decimal("500"), lot="REFILL-1",
                            septum_access_confirmed=True, aseptic_technique=True)  # fmt: skip
    to_sign = titration.propose_dose_change(actor=nurse, pump=pump, kind=DoseChangeKind.TITRATION,
                                            new_daily_dose_mcg=Decimal("120"), reason="Spasms at night")  # fmt: skip
    with transaction.atomic():
        alerts.raise_alert(kind="observation_overdue", severity=Severity.WARNING, patient=observing, rule="A1",
                           message="Observation 5 h after test dose 1 overdue", target_role=Role.NURSE,
                           subject=observing)  # fmt: skip
        alerts.raise_alert(kind="refill_due", severity=Severity.INFO, patient=active, rule="R3",
                           message="Refill due in 14 days", target_role=Role.NURSE, subject=pump)  # fmt: skip
    dose = observing.screening_trials.get().doses.get()
    return {
        nurse.username: [
            ("board", "/ward/"),
            ("patient-awaiting-dose", f"/patients/{awaiting.pk}/"),
            ("patient-observing", f"/patients/{observing.pk}/"),
            ("patient-candidate", f"/patients/{candidate_trial.patient_id}/"),
            ("patient-implanted", f"/patients/{active.pk}/"),
            ("register", "/patients/new/"),
            ("give-dose", f"/trials/{awaiting.screening_trials.get().pk}/dose/"),
            ("chart-observation", f"/patients/{observing.pk}/observe/"),
            ("programming-queue", "/programming/"),
            ("program", f"/dose-changes/{to_program.pk}/program/"),
            ("refill", f"/pumps/{pump.pk}/refill/"),
            ("propose", f"/pumps/{pump.pk}/propose/"),
            ("alerts", "/alerts/"),
            ("help", "/help/rules/"),
            ("chart-infection", f"/patients/{observing.pk}/infection/"),
            ("observation-in-error", f"/observations/{observing.observations.first().pk}/entered-in-error/"),
            ("forbidden", "/audit/"),
            ("not-found", "/patients/999999/"),
        ],
        second_nurse.username: [("read-back", f"/dose-changes/{to_read.pk}/read-back/")],
        neurologist.username: [
            ("assess", f"/doses/{dose.pk}/assess/"),
            ("implant", f"/trials/{candidate_trial.pk}/implant/"),
            ("approvals", "/approvals/"),
            ("approve", f"/dose-changes/{to_sign.pk}/approve/"),
            ("patient-neurologist", f"/patients/{observing.pk}/"),
            ("audit-neurologist", "/audit/"),
            ("change-phase", f"/pumps/{pump.pk}/phase/"),
            ("cancel-trial", f"/trials/{observing.screening_trials.get().pk}/cancel/"),
        ],
        administrator.username: [("audit", "/audit/"), ("help-administrator", "/help/rules/")],
    }


def _problems(page, viewport) -> list[str]:
    page.evaluate(AXE)  # evaluated through the driver: the page's CSP (no inline script) stays in force
    problems = [f"axe {v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in page.evaluate(AXE_VIOLATIONS)]
    problems += [f"tap target under {MIN_TARGET_PX} px: {t}" for t in page.evaluate(SMALL_TARGETS)]
    scroll_width, client_width = page.evaluate(SIDEWAYS)
    if viewport == TABLET and scroll_width > client_width:
        problems.append(f"scrolls sideways: {scroll_width} px of content in {client_width} px")
    return problems


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
def test_every_main_page_is_accessible_touch_sized_and_fits_the_tablet(allow_audit_flush, live_server, chromium,
                                                                      screenshot, ward_story, viewport):  # fmt: skip
    size = "tablet" if viewport == TABLET else "desktop"
    report = {}
    anonymous = chromium.new_context(viewport=viewport).new_page()
    anonymous.goto(f"{live_server.url}/accounts/login/")
    report["login"] = _problems(anonymous, viewport)
    screenshot(anonymous, f"page-login-{size}")
    for username, pages in ward_story.items():
        browser_page = log_in(chromium, live_server, username, viewport)
        for name, path in pages:
            browser_page.goto(f"{live_server.url}{path}")
            browser_page.wait_for_load_state("networkidle")
            assert browser_page.url == f"{live_server.url}{path}", f"{username} could not open {name}"
            report[name] = _problems(browser_page, viewport)
            if name in DOSE_DECISION_PAGES and not browser_page.get_by_test_id("caution-strip").is_visible():
                report[name].append("no caution strip on a dose decision page")
            screenshot(browser_page, f"page-{name}-{size}")
    failing = {name: problems for name, problems in report.items() if problems}
    assert failing == {}, json.dumps(failing, indent=2)
