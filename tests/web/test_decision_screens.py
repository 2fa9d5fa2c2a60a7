"""The decision screens: no decision preselected and hours after the dose as hours (S6, S7), the allowed range in
mcg/day beside the dose (T3-T6, T14), refusals that name the form's fields (never the service's arguments), a change
set aside by a later one shown as superseded, and the programming queue offering only what can be done now."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from screening import services as screening
from tests.titration.support import PASSWORD, candidate_trial, implant_fields, put_in_force
from tests.web.support import logged_in
from titration import services as titration
from titration.models import DoseChange, Pump

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
VITALS = {"heart_rate": Decimal("70"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
          "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip
INTERNAL_NAMES = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def pump(clock, make_patient, ward, nurse, neurologist) -> Pump:
    """100 mcg/day in force since T0 (adult, spinal origin)."""
    patient = make_patient(ward, "DS-1")
    trial = candidate_trial(clock, neurologist, nurse, patient)
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial))
    change = titration.approve_dose_change(actor=neurologist, change=pump.dose_changes.get(), password=PASSWORD)
    put_in_force(nurse, change, timezone.now(), "100")
    return Pump.objects.get(pk=pump.pk)


def messages_of(page: str) -> str:
    """The refusals shown: the form's errors, without the page's markup."""
    return " ".join(re.findall(r'class="error"[^>]*>(.*?)</(?:p|div)>', page, re.S))


@pytest.fixture
def assessable(clock, make_patient, ward, nurse, neurologist):
    patient = make_patient(ward, "DS-2")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=T0 - timedelta(minutes=30),
                                ashworth_mean=Decimal("3"), penn_spasm_frequency=Decimal("3"), sedation="alert",
                                **VITALS)  # fmt: skip
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    clock.move_to(T0 + timedelta(hours=5))
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=T0 + timedelta(hours=4.5),
                                ashworth_mean=Decimal("1"), penn_spasm_frequency=Decimal("1"), sedation="alert",
                                **VITALS)  # fmt: skip
    return dose


def test_the_assessment_form_preselects_no_decision_although_the_system_suggests_one(assessable, neurologist):
    page = logged_in(neurologist).get(f"/doses/{assessable.pk}/assess/").content.decode()
    assert 'data-testid="suggestion">positive<' in page
    assert re.findall(r'<input type="radio" name="response"[^>]*>', page)
    assert not re.findall(r'<input type="radio" name="response"[^>]*checked', page)


def test_the_assessment_form_refuses_without_a_decision(assessable, neurologist):
    response = logged_in(neurologist).post(f"/doses/{assessable.pk}/assess/", {"note": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assessable.refresh_from_db()
    assert not hasattr(assessable, "assessment")


def test_the_assessment_form_shows_hours_after_the_dose_as_hours(assessable, neurologist):
    page = logged_in(neurologist).get(f"/doses/{assessable.pk}/assess/").content.decode()
    hours = re.findall(r'data-testid="hours-after-dose">([^<]*)<', page)
    assert hours == ["0.5 h before", "4.5 h"]


def test_the_proposal_form_shows_the_allowed_range_in_mcg_per_day(pump, nurse):
    page = logged_in(nurse).get(f"/pumps/{pump.pk}/propose/").content.decode()
    help_text = re.search(r'data-testid="help-new_daily_dose_mcg">([^<]*)<', page)[1]
    assert "titration: 110.00 to 130.00 mcg/day (T3)" in help_text
    assert "adverse effect reduction: 80.00 to 90.00 mcg/day (T6)" in help_text


def test_a_band_refusal_names_the_override_field_by_its_label(pump, neurologist):
    response = logged_in(neurologist).post(f"/pumps/{pump.pk}/propose/",
                                           {"kind": "titration", "new_daily_dose_mcg": "150"})  # fmt: skip
    shown = messages_of(response.content.decode())
    assert "allowed: 110.00 to 130.00 mcg/day" in shown
    assert "Override reason (neurologist, beyond the band)" in shown
    assert not INTERNAL_NAMES.findall(shown)
    assert pump.dose_changes.count() == 1


def test_a_band_refusal_to_a_nurse_names_no_field_she_cannot_fill(pump, nurse):
    response = logged_in(nurse).post(f"/pumps/{pump.pk}/propose/", {"kind": "titration", "new_daily_dose_mcg": "150"})
    shown = messages_of(response.content.decode())
    assert "allowed: 110.00 to 130.00 mcg/day" in shown and not INTERNAL_NAMES.findall(shown)


def test_an_emergency_stop_without_its_reason_names_the_reason_field(pump, neurologist):
    response = logged_in(neurologist).post(f"/pumps/{pump.pk}/propose/", {
        "kind": "discontinuation", "new_daily_dose_mcg": "0", "serious_adverse_reaction": "on"})  # fmt: skip
    shown = messages_of(response.content.decode())
    assert "the reaction documented" in shown and "(reason)" not in shown and not INTERNAL_NAMES.findall(shown)


def test_a_refused_predose_check_names_the_override_field_by_its_label(clock, make_patient, ward, neurologist):
    trial = screening.open_trial(actor=neurologist, patient=make_patient(ward, "DS-3"))
    response = logged_in(neurologist).post(f"/trials/{trial.pk}/dose/", {
        "administered_at": timezone.localtime(T0).strftime("%Y-%m-%dT%H:%M"), "dose_mcg": "50", "volume_ml": "1",
        "lot": "L1", "route": "catheter", "injection_seconds": "90", "resuscitation_ready": "on"})  # fmt: skip
    shown = messages_of(response.content.decode())
    assert "V2" in shown and "Override reason" in shown and not INTERNAL_NAMES.findall(shown)
    assert not trial.doses.exists()


def test_a_change_set_aside_by_a_reduction_reads_superseded_not_rejected(pump, nurse, neurologist):
    step = titration.propose_dose_change(actor=nurse, pump=pump, kind="titration", new_daily_dose_mcg=Decimal("120"))
    titration.approve_dose_change(actor=neurologist, change=step, password=PASSWORD)
    titration.propose_dose_change(actor=nurse, pump=pump, kind="adverse_effect_reduction",
                                  new_daily_dose_mcg=Decimal("85"), reason="drowsy")  # fmt: skip
    step.refresh_from_db()
    assert step.state == DoseChange.State.REJECTED  # T6: set aside, as the service records it
    page = logged_in(nurse).get(f"/patients/{pump.patient_id}/").content.decode()
    statuses = re.findall(r'data-testid="dose-change-status">([^<]*)<', page)
    assert sorted(statuses) == ["active", "proposed", "superseded by a later change"]


def test_a_change_a_neurologist_rejected_still_reads_rejected(pump, nurse, neurologist):
    step = titration.propose_dose_change(actor=nurse, pump=pump, kind="titration", new_daily_dose_mcg=Decimal("120"))
    titration.reject_dose_change(actor=neurologist, change=step, reason="wait for review")
    page = logged_in(nurse).get(f"/patients/{pump.patient_id}/").content.decode()
    assert sorted(re.findall(r'data-testid="dose-change-status">([^<]*)<', page)) == ["active", "rejected"]


def test_the_programming_queue_tells_a_neurologist_who_programs(pump, nurse, neurologist):
    step = titration.propose_dose_change(actor=nurse, pump=pump, kind="titration", new_daily_dose_mcg=Decimal("120"))
    titration.approve_dose_change(actor=neurologist, change=step, password=PASSWORD)
    page = logged_in(neurologist).get("/programming/").content.decode()
    assert "Confirm programming</a>" not in page
    assert re.search(r'data-testid="why-not-now">[^<]*nurse[^<]*<', page)
