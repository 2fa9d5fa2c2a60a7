"""Dates, times and input (2026.2) on the ward pages: ages on the ward's date, plausible dates of birth, stored times
always shown, and a local time at a DST change resolved by asking which instant it was."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from alerts.models import DueCheck
from screening import services as screening
from screening.kinds import CheckKind
from screening.models import Observation, TestDose
from tests.web.support import logged_in
from titration.kinds import CheckKind as TitrationCheckKind
from wardflow.audit.models import AuditEvent
from wardflow.audit.services import record_event
from wardflow.patients.models import Patient

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)
VITALS = {"ashworth_mean": "3", "penn_spasm_frequency": "2", "heart_rate": "72", "systolic_bp": "120",
          "diastolic_bp": "80", "respiratory_rate": "14", "spo2": "97", "temperature_c": "36.5",
          "sedation": "alert"}  # fmt: skip
# Europe/London: the clocks go forward at 01:00 GMT on 29 March 2026 and back at 02:00 BST on 25 October 2026.
SPRING_DAY = datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
AUTUMN_DAY = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def observe(client, patient, observed_at: str, **choice):
    return client.post(f"/patients/{patient.pk}/observe/", {**VITALS, "observed_at": observed_at, **choice})


# --- ages on the ward's date ---------------------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 6, 14, 23, 30, tzinfo=UTC), tick=False)  # 00:30 BST on 15 June
def test_the_patient_page_shows_the_age_on_the_wards_date(nurse, make_patient, ward):
    """The 18th birthday is today on the ward and tomorrow in UTC. The page is rendered while UTC is the active time
    zone (as under the API's override), so an age taken from the active zone's date rather than the ward's shows 17."""
    patient = make_patient(ward, "B-18", date_of_birth=date(2008, 6, 15))
    client = logged_in(nurse)
    with timezone.override(UTC):
        page = client.get(f"/patients/{patient.pk}/")
    assert b" 18 y " in page.content
    assert b" 17 y " not in page.content


# --- plausible dates of birth --------------------------------------------------------------------------------------


def test_a_date_of_birth_in_year_one_is_refused_next_to_its_field(nurse, ward):
    body = {"mrn": "DOB-1", "given_name": "A", "family_name": "B", "date_of_birth": "0001-01-01", "ward": ward.pk,
            "spasticity_origin": "spinal"}  # fmt: skip
    response = logged_in(nurse).post("/patients/new/", body)
    assert response.status_code == 200
    assert b'id="id_date_of_birth-error">Date of birth 0001-01-01 is before 1900-01-01' in response.content
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


# --- stored times are always shown ---------------------------------------------------------------------------------


def test_the_patient_page_shows_an_observation_of_year_one_in_utc(nurse, neurologist, make_patient, ward):
    patient = make_patient(ward, "Y-1")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    Observation.objects.create(patient=patient, trial=trial, observed_at=YEAR_ONE, charted_by=nurse, **VITALS)
    page = logged_in(nurse).get(f"/patients/{patient.pk}/")
    assert page.status_code == 200
    assert b">Mon 1 Jan 0001 00:00 UTC</time>" in page.content


def test_the_audit_page_shows_an_event_of_year_one_in_utc(administrator, nurse):
    with transaction.atomic():
        record_event(actor=nurse, action="test.event", at=YEAR_ONE)
    page = logged_in(administrator).get("/audit/")
    assert page.status_code == 200
    assert b">Mon 1 Jan 0001 00:00 UTC</time>" in page.content


def test_the_board_shows_a_check_due_in_year_one_in_utc(nurse, make_patient, ward):
    patient = make_patient(ward, "Y-2")
    DueCheck.objects.create(kind=CheckKind.NEXT_DOSE_DUE, patient=patient, due_at=YEAR_ONE)
    page = logged_in(nurse).get("/ward/")
    assert page.status_code == 200
    assert b">Mon 1 Jan 0001 00:00 UTC</time>" in page.content
    assert b"days overdue</span>" in page.content


# --- every shown time says its day ---------------------------------------------------------------------------------


def _next_due(page: bytes) -> str:
    return page.decode().split('data-testid="next-due">')[1].split("</td>")[0]


@time_machine.travel(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), tick=False)
def test_the_board_shows_a_refill_reminder_months_away_with_its_date(nurse, make_patient, ward):
    patient = make_patient(ward, "DATE-1")
    DueCheck.objects.create(kind=TitrationCheckKind.REFILL_REMINDER, patient=patient,
                            due_at=datetime(2027, 3, 7, 14, 40, tzinfo=UTC))  # fmt: skip
    due = _next_due(logged_in(nurse).get("/ward/").content)
    assert due.startswith("Refill reminder")
    assert ">Sun 7 Mar 2027 14:40</time>" in due
    assert "in 125 days" in due


@time_machine.travel(datetime(2026, 11, 6, 9, 0, tzinfo=UTC), tick=False)
def test_the_board_says_how_many_days_an_observation_is_overdue(nurse, make_patient, ward):
    patient = make_patient(ward, "DATE-2")
    slot = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # four days ago, at 17:00
    DueCheck.objects.create(kind=CheckKind.OBSERVATION_OVERDUE, patient=patient, due_at=slot + timedelta(minutes=15),
                            payload={"slot_due_at": slot.isoformat()})  # fmt: skip
    due = _next_due(logged_in(nurse).get("/ward/").content)
    assert ">Mon 2 Nov 17:00</time>" in due
    assert "3 days overdue" in due  # 3 days and 16 hours
    assert ">17:00<" not in due


# --- a local time at a DST change is resolved by asking ------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "offered"),
    [
        (AUTUMN_DAY, [b"01:30 BST (UTC+1)", b"01:30 GMT (UTC+0)"]),  # 01:30 happened twice
        (SPRING_DAY, [b"00:30 GMT (UTC+0)", b"02:30 BST (UTC+1)"]),  # 01:30 never happened
    ],
    ids=["autumn", "spring"],
)
def test_a_local_time_at_a_dst_change_is_asked_about_and_nothing_is_saved(nurse, make_patient, ward, day, offered):
    with time_machine.travel(day, tick=False):
        patient = make_patient(ward, "DST-1")
        response = observe(logged_in(nurse), patient, f"{day:%Y-%m-%d}T01:30")
    assert response.status_code == 200
    assert response.content.count(b'type="radio" name="observed_at_instant"') == 2
    assert all(label in response.content for label in offered)
    assert not Observation.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("day", "picked"),
    [
        (AUTUMN_DAY, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # 01:30 BST, the first 01:30
        (AUTUMN_DAY, datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),  # 01:30 GMT, the second
        (SPRING_DAY, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),  # 00:30 GMT
        (SPRING_DAY, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # 02:30 BST
    ],
    ids=["autumn-first", "autumn-second", "spring-earlier", "spring-later"],
)
def test_the_instant_picked_at_a_dst_change_is_the_one_saved(nurse, make_patient, ward, day, picked):
    with time_machine.travel(day, tick=False):
        patient = make_patient(ward, "DST-2")
        response = observe(logged_in(nurse), patient, f"{day:%Y-%m-%d}T01:30", observed_at_instant=picked.isoformat())
    assert response.status_code == 302
    assert Observation.objects.get().observed_at == picked


@time_machine.travel(AUTUMN_DAY, tick=False)
def test_the_test_dose_form_asks_which_instant_too(nurse, neurologist, make_patient, ward):
    trial = screening.open_trial(actor=neurologist, patient=make_patient(ward, "DST-3"))
    events = AuditEvent.objects.count()
    body = {"administered_at": "2026-10-25T01:30", "dose_mcg": "50", "volume_ml": "1", "lot": "L1",
            "route": "catheter", "injection_seconds": "90", "resuscitation_ready": "on"}  # fmt: skip
    response = logged_in(nurse).post(f"/trials/{trial.pk}/dose/", body)
    assert response.status_code == 200
    assert response.content.count(b'type="radio" name="administered_at_instant"') == 2
    assert not TestDose.objects.exists()
    assert AuditEvent.objects.count() == events


@time_machine.travel(datetime(2026, 10, 25, 1, 30, 20, tzinfo=UTC), tick=False)  # 01:30 GMT, the second 01:30
def test_a_form_opened_in_the_repeated_hour_offers_the_choice_with_now_picked(nurse, make_patient, ward):
    patient = make_patient(ward, "DST-4")
    page = logged_in(nurse).get(f"/patients/{patient.pk}/observe/").content
    assert b'value="2026-10-25T01:30"' in page
    assert b'value="2026-10-25T01:30:00+00:00" id="id_observed_at_instant_1" checked' in page
    assert b'value="2026-10-25T00:30:00+00:00" id="id_observed_at_instant_0">' in page
