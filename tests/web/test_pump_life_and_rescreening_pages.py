"""The pages offer explant, replacement and re-screening only where the services allow them (T13, S11), and show
the refusal's rule when they do not."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from screening.models import ScreeningTrial, TestDose
from tests.titration.support import PASSWORD, candidate_trial, implant_fields, put_in_force
from tests.web.support import logged_in
from titration import services as titration
from titration.models import Pump
from wardflow import protocol
from wardflow.audit.models import AuditEvent
from wardflow.protocol import TrialState

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "PUMP-WEB", date_of_birth=date(1975, 4, 2), spasticity_origin="spinal")


@pytest.fixture
def active_pump(clock, nurse, neurologist, patient) -> Pump:
    """An adult spinal patient whose initial 100 mcg/day is active since T0."""
    trial = candidate_trial(clock, neurologist, nurse, patient)
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial))
    change = titration.approve_dose_change(actor=neurologist, change=pump.dose_changes.get(), password=PASSWORD)
    put_in_force(nurse, change, timezone.now(), "100")
    return Pump.objects.get(pk=pump.pk)


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_neurologist_is_offered_explant_and_replacement_and_the_nurse_is_not_t13(active_pump, nurse, neurologist):
    page = logged_in(neurologist).get(f"/patients/{active_pump.patient_id}/").content.decode()
    assert f"/pumps/{active_pump.pk}/explant/" in page and f"/pumps/{active_pump.pk}/replace/" in page
    page = logged_in(nurse).get(f"/patients/{active_pump.patient_id}/").content.decode()
    assert "/explant/" not in page and "/replace/" not in page
    assert logged_in(nurse).get(f"/pumps/{active_pump.pk}/explant/").status_code == 403


def test_an_explant_recorded_from_the_page_ends_the_pump_and_is_shown_t13(clock, active_pump, neurologist):
    clock.shift(timedelta(hours=2))
    client = logged_in(neurologist)
    response = client.post(f"/pumps/{active_pump.pk}/explant/",
                           {"explanted_at": local(timezone.now()), "reason": "pocket infection"})  # fmt: skip
    assert response.status_code == 302
    pump = Pump.objects.get(pk=active_pump.pk)
    assert pump.explanted_at is not None and pump.refill_due_at is None
    page = client.get(f"/patients/{pump.patient_id}/").content.decode()
    assert "Explanted: pocket infection" in page
    assert f"/pumps/{pump.pk}/refill/" not in page and f"/pumps/{pump.pk}/propose/" not in page


def test_the_explant_page_of_an_explanted_pump_says_why_not_with_its_rule(clock, active_pump, neurologist):
    Pump.objects.filter(pk=active_pump.pk).update(explanted_at=T0, explant_reason="infection", explanted_by=neurologist)
    page = logged_in(neurologist).get(f"/pumps/{active_pump.pk}/explant/").content.decode()
    assert "T13" in page
    events = AuditEvent.objects.count()
    response = logged_in(neurologist).post(f"/pumps/{active_pump.pk}/explant/",
                                           {"explanted_at": local(T0), "reason": "again"})  # fmt: skip
    assert response.status_code == 200 and AuditEvent.objects.count() == events


def test_a_replacement_from_the_page_carries_the_program_over_for_signature_t13(clock, active_pump, neurologist):
    clock.shift(timedelta(hours=2))
    response = logged_in(neurologist).post(f"/pumps/{active_pump.pk}/replace/", {
        "replaced_at": local(timezone.now()), "reason": "end of battery life", "model": "SynchroMed III",
        "serial": "NEW-1", "reservoir_ml": "40", "alarm_ml": "2", "initial_volume_ml": "40",
    })  # fmt: skip
    assert response.status_code == 302
    new = Pump.objects.get(serial="NEW-1")
    assert new.replaces_id == active_pump.pk and new.active_change is None
    carried = new.dose_changes.get()
    assert (carried.state, carried.new_daily_dose_mcg) == ("proposed", Decimal("100"))
    page = logged_in(neurologist).get(f"/patients/{new.patient_id}/").content.decode()
    assert "NEW-1" in page


def test_no_screening_is_offered_while_a_pump_is_in_place_t13(active_pump, neurologist):
    page = logged_in(neurologist).get(f"/patients/{active_pump.patient_id}/").content.decode()
    assert f"/patients/{active_pump.patient_id}/screening/" not in page
    form = logged_in(neurologist).get(f"/patients/{active_pump.patient_id}/screening/").content.decode()
    assert "T13" in form


@pytest.fixture
def not_candidate(clock, patient, neurologist):
    """The patient's trial ended not_candidate: 50, 75 and 100 mcg inadequate, the last two days before T0."""
    last = T0 - timedelta(days=2)
    trial = ScreeningTrial.objects.create(patient=patient, state=TrialState.NOT_CANDIDATE, first_dose_mcg=Decimal("50"),
                                          opened_by=neurologist, opened_at=last - timedelta(days=3),
                                          closed_at=last + timedelta(hours=8))  # fmt: skip
    for number in (1, 2, 3):
        mcg = protocol.ladder_dose_mcg(number)
        TestDose.objects.create(trial=trial, number=number, dose_mcg=mcg, volume_ml=protocol.ladder_volume_ml(mcg),
                                administered_at=last - timedelta(days=3 - number), lot="L1", route="catheter",
                                injection_seconds=90, resuscitation_ready=True, given_by=neurologist)  # fmt: skip
    return patient


def test_rescreening_from_the_page_asks_for_the_s11_override_and_keeps_it(not_candidate, neurologist):
    client = logged_in(neurologist)
    form = client.get(f"/patients/{not_candidate.pk}/screening/").content.decode()
    assert "S11" in form and 'name="override_reason"' in form
    refused = client.post(f"/patients/{not_candidate.pk}/screening/", {"first_dose_mcg": "50"})
    assert refused.status_code == 200 and ScreeningTrial.objects.filter(patient=not_candidate).count() == 1
    opened = client.post(f"/patients/{not_candidate.pk}/screening/",
                         {"first_dose_mcg": "50", "override_reason": "new spasticity after a stroke"})  # fmt: skip
    assert opened.status_code == 302
    event = AuditEvent.objects.get(action="screening.opened")
    assert "S11" in event.rules and "new spasticity" in event.reason


@pytest.fixture
def stopped_pump(clock, active_pump, nurse, neurologist, second_neurologist) -> Pump:
    """The therapy stopped at once for a serious adverse reaction (T11): 0 mcg/day in force."""
    stop = titration.propose_dose_change(actor=neurologist, pump=active_pump, kind="discontinuation",
                                         new_daily_dose_mcg=Decimal("0"), serious_adverse_reaction=True,
                                         reason="respiratory depression")  # fmt: skip
    signed = titration.approve_dose_change(actor=second_neurologist, change=stop, password=PASSWORD,
                                           acknowledge_warnings=True)  # fmt: skip
    put_in_force(nurse, signed, timezone.now(), "0")
    return Pump.objects.get(pk=active_pump.pk)


def test_a_stopped_therapy_is_restarted_from_the_page_with_the_last_dose_shown_t14(stopped_pump, nurse, neurologist):
    assert "Restart therapy" not in logged_in(nurse).get(f"/patients/{stopped_pump.patient_id}/").content.decode()
    client = logged_in(neurologist)
    assert "Restart therapy (T14)" in client.get(f"/patients/{stopped_pump.patient_id}/").content.decode()
    form = client.get(f"/pumps/{stopped_pump.pk}/propose/").content.decode()
    assert "100.00 mcg/day" in form and "Restore intrathecal delivery" in form
    assert 'value="restart"' in form and 'value="titration"' not in form
    response = client.post(f"/pumps/{stopped_pump.pk}/propose/",
                           {"kind": "restart", "new_daily_dose_mcg": "100", "reason": "reaction resolved"})  # fmt: skip
    assert response.status_code == 302
    restart = stopped_pump.dose_changes.get(kind="restart")
    assert (restart.state, restart.new_daily_dose_mcg) == ("proposed", Decimal("100"))


def test_the_approval_queue_sends_an_override_to_another_neurologist_t4(active_pump, neurologist, second_neurologist):
    change = titration.propose_dose_change(
        actor=neurologist, pump=active_pump, kind="titration", new_daily_dose_mcg=Decimal("140"), override_reason="MDT"
    )
    own = logged_in(neurologist).get("/approvals/").content.decode()
    assert "T4: you proposed this override" in own and "Review and sign" not in own
    assert "T4" in logged_in(neurologist).get(f"/dose-changes/{change.pk}/approve/").content.decode()
    assert "Review and sign" in logged_in(second_neurologist).get("/approvals/").content.decode()
