"""The record of a refill visit (issue 15): the volumes and the residual found against the one expected (R5), the
program set at the visit (T5, T7) with who signed, programmed and read it back (T9, T12), and the next due date
(R2)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from documents import selectors
from documents.templatetags.documents import on_paper
from tests.documents.support import pdf_text, rasterise_first_page, reader_with_wards
from tests.web.support import logged_in
from titration import services as titration

pytestmark = pytest.mark.django_db


def record_of(client, refill):
    return client.get(f"/refills/{refill.pk}/record.pdf")


def refill_again(nurse, pump, refill, days: int):
    return titration.record_refill(actor=nurse, pump=pump, refilled_at=refill.refilled_at + timedelta(days=days),
                                   volume_removed_ml=Decimal("19"), volume_added_ml=Decimal("20"),
                                   concentration_mcg_per_ml=Decimal("500"), lot=f"RF-{days}",
                                   septum_access_confirmed=True, aseptic_technique=True)  # fmt: skip


def test_the_record_carries_the_volumes_and_the_residual_discrepancy_r5(story, team, tmp_path):
    pump, refill = story
    response = record_of(logged_in(team[0]), refill)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="refill-{pump.serial}-2026-11-22.pdf"'
    assert rasterise_first_page(response.content, "refill_record").stat().st_size > 0
    text = pdf_text(response.content, tmp_path)
    assert f"Refilled {on_paper(refill.refilled_at)} by Nina Okoro" in text
    assert "baclofen 500.0 mcg/mL, lot RF-2026-77" in text
    # 20 days at 100 mcg/day of 500 mcg/mL from 20 mL: 16 mL expected; 13.5 mL found.
    assert "Residual expected (estimate) 16.00 mL" in text
    assert "Residual found (removed) 13.50 mL" in text
    assert "Discrepancy (found \N{MINUS SIGN} expected) -2.50 mL" in text
    assert "beyond the 2 mL limit: possible pump malfunction or dosing error (R5)" in text
    assert "Volume added 20.00 mL" in text


def test_a_residual_within_the_limit_is_printed_as_within_it_r5(clock, patient, team, tmp_path):
    from tests.documents.conftest import T0
    from tests.documents.support import refilled_with_new_program

    nurse, reader, neurologist = team
    _, refill = refilled_with_new_program(clock, patient, nurse, neurologist, reader, T0, removed="15")
    text = pdf_text(record_of(logged_in(nurse), refill).content, tmp_path)
    assert "-1.00 mL · within the 2 mL limit" in text
    assert "beyond" not in text


def test_the_record_carries_the_new_program_and_its_signatures_t5_t9_t12(story, team, tmp_path):
    _, refill = story
    change = refill.adjustments.get()
    text = pdf_text(record_of(logged_in(team[0]), refill).content, tmp_path)
    assert "Refill adjustment · active" in text
    assert "Daily dose 120.00 mcg/day (was 100.00 mcg/day)" in text
    assert "00:00 20:00 100 % 4.62 mcg/h" in text and "20:00 24:00 150 % 6.92 mcg/h" in text
    assert f"In force from {on_paper(change.read_back_at)}" in text
    assert "Proposed Nina Okoro" in text
    assert "Signed (T9) Niamh Nolan" in text and "Approved by Niamh Nolan at" in text
    assert "Programmed (T12) Nina Okoro" in text
    assert "Read back (T12) Noor Haddad" in text


def test_the_latest_record_gives_the_next_refill_due_date_r2(story, team, tmp_path):
    pump, refill = story
    text = pdf_text(record_of(logged_in(team[0]), refill).content, tmp_path)
    assert f"Refill due {on_paper(pump.refill_due_at)}" in text
    assert f"Low-reservoir alarm {on_paper(pump.alarm_at)}" in text


def test_an_earlier_record_points_to_the_later_refill_instead_of_a_stale_due_date_r2(story, team, clock, tmp_path):
    pump, refill = story
    clock.move_to(refill.refilled_at + timedelta(days=30))
    later = refill_again(team[0], pump, refill, 30)
    pump.refresh_from_db()
    text = pdf_text(record_of(logged_in(team[0]), refill).content, tmp_path)
    assert f"A later refill was done on {on_paper(later.refilled_at)}" in text
    assert "Refill due" not in text


def test_a_visit_without_a_new_program_says_the_program_was_kept(story, team, clock, tmp_path):
    pump, refill = story
    clock.move_to(refill.refilled_at + timedelta(days=30))
    later = refill_again(team[0], pump, refill, 30)
    text = pdf_text(record_of(logged_in(team[0]), later).content, tmp_path)
    assert "No new program was set at this visit: the program in force was kept." in text
    assert "Signed (T9)" not in text


@pytest.mark.parametrize("later_refills", [0, 2])
def test_the_record_is_read_in_three_queries_however_many_refills_follow(story, team, clock, later_refills,
                                                                         django_assert_num_queries):  # fmt: skip
    pump, refill = story
    for day in range(1, later_refills + 1):
        clock.move_to(refill.refilled_at + timedelta(days=10 * day))
        refill_again(team[0], pump, refill, 10 * day)
    nurse = reader_with_wards(team[0])
    with django_assert_num_queries(3):  # the refill with its pump and patient, its programs, the next refill
        record = selectors.refill_record(nurse, refill.pk)
    assert record.latest is (later_refills == 0)
