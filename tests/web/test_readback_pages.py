"""The programming queue and the read-back page (T12): the queue lists signed changes to program and programmed ones
to read back, each to the clinicians who may do it; the read-back page and the patient page never show a reader the
approved values."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.titration.support import PASSWORD, candidate_trial, implant_fields, put_in_force
from tests.web.support import logged_in
from titration import services as titration
from titration.models import DoseChange, Pump
from wardflow.clinical_time import clock_text

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
APPROVED = Decimal("123.45")
pytestmark = pytest.mark.django_db


def running_pump(clock, nurse, neurologist, patient) -> Pump:
    """The initial 100 mcg/day in force since T0, programmed and read back."""
    trial = candidate_trial(clock, neurologist, nurse, patient)
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial))
    change = titration.approve_dose_change(actor=neurologist, change=pump.dose_changes.get(), password=PASSWORD)
    put_in_force(nurse, change, timezone.now(), "100")
    return Pump.objects.get(pk=pump.pk)


def programmed_step(clock, nurse, neurologist, pump) -> DoseChange:
    """A titration step to 123.45 mcg/day, signed, programmed by `nurse` a day later, waiting for its read-back."""
    change = titration.propose_dose_change(actor=nurse, pump=pump, kind="titration", new_daily_dose_mcg=APPROVED)
    titration.approve_dose_change(actor=neurologist, change=change, password=PASSWORD)
    clock.move_to(T0 + timedelta(days=1))
    return titration.confirm_programming(actor=nurse, change=change, programmed_at=timezone.now(),
                                         daily_dose_mcg=APPROVED, concentration_mcg_per_ml=Decimal("500"))  # fmt: skip


@pytest.fixture
def waiting(clock, make_patient, ward, nurse, neurologist) -> DoseChange:
    pump = running_pump(clock, nurse, neurologist, make_patient(ward, "RB-1", date_of_birth=date(1975, 4, 2)))
    return programmed_step(clock, nurse, neurologist, pump)


def test_the_queue_offers_the_read_back_to_a_second_nurse_and_not_to_the_programmer_t12(waiting, nurse, second_nurse):
    assert "Read back" not in logged_in(nurse).get("/programming/").content.decode()
    page = logged_in(second_nurse).get("/programming/").content.decode()
    assert f'href="/dose-changes/{waiting.pk}/read-back/"' in page and "123.45" not in page


def test_the_read_back_page_shows_no_approved_value_and_a_match_activates_t12(waiting, second_nurse):
    client = logged_in(second_nurse)
    page = client.get(f"/dose-changes/{waiting.pk}/read-back/").content.decode()
    assert "123.45" not in page and "23.5" not in page and "Confirm read-back" in page
    body = {"read_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"), "daily_dose_mcg": "123.45",
            "concentration_mcg_per_ml": "500", "segments": ""}  # fmt: skip
    response = client.post(f"/dose-changes/{waiting.pk}/read-back/", body)
    assert response.status_code == 302
    change = DoseChange.objects.get(pk=waiting.pk)
    assert (change.state, change.read_back_by) == ("active", second_nurse)


def test_the_programmer_is_told_why_they_cannot_read_back_t12(waiting, nurse):
    page = logged_in(nurse).get(f"/dose-changes/{waiting.pk}/read-back/").content.decode()
    assert 'data-testid="refusal"' in page and "neither programmed nor signed" in page
    assert "123.45" not in page


def test_the_patient_page_hides_the_approved_values_from_a_possible_reader_t12(waiting, nurse, second_nurse):
    page = logged_in(second_nurse).get(f"/patients/{waiting.pump.patient_id}/").content.decode()
    assert "hidden until read back (T12)" in page and "123.45" not in page
    assert f'href="/dose-changes/{waiting.pk}/read-back/"' in page
    assert "123.45" in logged_in(nurse).get(f"/patients/{waiting.pump.patient_id}/").content.decode()


def test_the_programming_queue_costs_constant_queries_t12(clock, make_patient, ward, nurse, neurologist, second_nurse,
                                                          django_assert_num_queries):  # fmt: skip
    client = logged_in(second_nurse)
    first = running_pump(clock, nurse, neurologist, make_patient(ward, "RB-1"))
    programmed_step(clock, nurse, neurologist, first)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/programming/").status_code == 200
    clock.move_to(T0)
    programmed_step(clock, nurse, neurologist, running_pump(clock, nurse, neurologist, make_patient(ward, "RB-2")))
    clock.move_to(T0)
    signed = running_pump(clock, nurse, neurologist, make_patient(ward, "RB-3"))  # signed, waiting for programming
    step = titration.propose_dose_change(actor=nurse, pump=signed, kind="titration", new_daily_dose_mcg=APPROVED)
    titration.approve_dose_change(actor=neurologist, change=step, password=PASSWORD)
    with django_assert_num_queries(len(one)):
        page = client.get("/programming/").content.decode()
    # T3: the signed step is listed with when it can be programmed, not offered before then.
    assert page.count("Read back</a>") == 2 and "Confirm programming</a>" not in page
    not_before = f"not before {clock_text(T0 + timedelta(days=1), T0)} (T3)"
    assert f'data-testid="why-not-now">{not_before}<' in page
    clock.move_to(T0 + timedelta(days=1))
    assert logged_in(second_nurse).get("/programming/").content.decode().count("Confirm programming</a>") == 1
