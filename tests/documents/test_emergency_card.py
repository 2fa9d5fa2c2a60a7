"""The emergency card a patient with a pump carries (issue 15): the pump, the drug and its strength, the program in
force with its segments (T7), the last refill and when the alarm sounds and the refill falls due (R2), what
withdrawal (W1) and overdose (O1) look like and what to do, and whom to call."""

from datetime import timedelta
from decimal import Decimal

import pytest

from documents import emergency, selectors
from documents.kinds import AuditAction
from documents.templatetags.documents import on_paper
from tests.documents.support import pdf_text, rasterise_first_page, reader_with_wards
from tests.web.support import logged_in
from titration import services as titration
from wardflow import protocol
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def card_of(client, patient):
    return client.get(f"/patients/{patient.pk}/documents/emergency-card.pdf")


def test_the_card_carries_the_pump_the_program_in_force_and_the_dates_due(story, patient, team, settings, tmp_path):
    settings.IMPLANTING_CENTRE_NAME = "St Elsewhere Neuromodulation"
    settings.IMPLANTING_CENTRE_PHONE = "+44 20 7946 0001"
    pump, refill = story
    response = card_of(logged_in(team[0]), patient)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="emergency-card-{pump.serial}.pdf"'
    assert rasterise_first_page(response.content, "emergency_card").stat().st_size > 0
    text = pdf_text(response.content, tmp_path)
    assert "Byrne, Ada" in text and "MRN DOC-1" in text
    assert f"SynchroMed II, serial {pump.serial}" in text
    assert "baclofen, intrathecal, 500.0 mcg/mL" in text
    assert "120.00 mcg/day" in text
    # T7: 00:00-20:00 at the base rate and 20:00-24:00 at 150 %: 120 mcg over 26 weighted hours.
    assert "00:00 20:00 100 % 4.62 mcg/h" in text and "20:00 24:00 150 % 6.92 mcg/h" in text
    assert f"Last refill {on_paper(refill.refilled_at)}" in text
    assert f"Low-reservoir alarm {on_paper(pump.alarm_at)}" in text
    assert f"Refill due {on_paper(pump.refill_due_at)}" in text
    assert "GMT" in on_paper(pump.refill_due_at)  # absolute, with the zone: never "in 3 days" on paper
    assert "St Elsewhere Neuromodulation" in text and "Phone +44 20 7946 0001" in text
    assert "ask the hospital" not in text
    assert "page 1 of 2" in text  # the card and, overleaf, the signs and what to do


def test_the_card_tells_what_withdrawal_and_overdose_look_like_and_what_to_do_w1_o1(story, patient, team, tmp_path):
    text = pdf_text(card_of(logged_in(team[0]), patient).content, tmp_path)
    assert "Withdrawal: delivery stopped or pump empty (W1)" in text
    assert "itching" in text and "rigid muscles" in text and "high temperature" in text
    assert "Intrathecal delivery must be restored, at or close to the daily dose on this card" in text
    assert "Baclofen by mouth is not enough on its own" in text
    assert "Overdose: too much baclofen (O1)" in text
    assert "slow or shallow breathing" in text and "floppiness spreading up the body" in text
    assert "the pump's reservoir may need emptying" in text


def test_the_card_names_exactly_the_signs_the_protocol_lists_w1_o1():
    assert set(emergency.WITHDRAWAL_EARLY) == protocol.WITHDRAWAL_SIGNS_EARLY
    assert set(emergency.WITHDRAWAL_ADVANCED) == protocol.WITHDRAWAL_SIGNS_ADVANCED
    assert set(emergency.OVERDOSE) == protocol.OVERDOSE_SIGNS


def test_without_a_phone_on_record_the_card_says_to_ask_the_hospital(story, patient, team, settings, tmp_path):
    settings.IMPLANTING_CENTRE_PHONE = ""
    text = pdf_text(card_of(logged_in(team[0]), patient).content, tmp_path)
    assert "No phone number on record: ask the hospital's switchboard for the implanting centre." in text
    assert "Phone" not in text


def test_a_patient_without_a_pump_has_no_card_and_the_page_says_why_t13(clock, make_patient, ward, team):
    patient = make_patient(ward, "DOC-NONE")
    response = card_of(logged_in(team[0]), patient)
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "This patient has no pump in place (T13)" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_PRINTED).exists()


@pytest.mark.parametrize("extra_refills", [0, 2])
def test_the_card_is_read_in_three_queries_however_many_refills(story, patient, team, clock, extra_refills,
                                                                django_assert_num_queries):  # fmt: skip
    pump, refill = story
    for day in range(1, extra_refills + 1):
        clock.move_to(refill.refilled_at + timedelta(days=day))
        titration.record_refill(actor=team[0], pump=pump, refilled_at=refill.refilled_at + timedelta(days=day),
                                volume_removed_ml=Decimal("19"), volume_added_ml=Decimal("20"),
                                concentration_mcg_per_ml=Decimal("500"), lot="RF-X", septum_access_confirmed=True,
                                aseptic_technique=True)  # fmt: skip
    nurse = reader_with_wards(team[0])
    with django_assert_num_queries(3):  # the patient, the pump with its program, the last refill
        card = selectors.emergency_card(nurse, patient.pk)
    assert card.last_refill.lot == ("RF-X" if extra_refills else "RF-2026-77")
