"""The screening summary (issue 15): the test doses as given (S1, S4), the observation curves after each (S5), the
neurologist's assessments beside the suggestion (S6-S9) and the decision (S9, S11)."""

import pytest

from documents import selectors
from documents.kinds import AuditAction
from documents.templatetags.documents import on_paper
from screening import services as screening
from tests.documents.support import pdf_text, rasterise_first_page, reader_with_wards, screened
from tests.web.support import logged_in
from wardflow.audit.models import AuditEvent
from wardflow.protocol import Response

pytestmark = pytest.mark.django_db


def summary_of(client, trial):
    return client.get(f"/trials/{trial.pk}/summary.pdf")


def test_the_summary_carries_the_doses_the_assessment_the_curves_and_the_decision_s9(story, team, tmp_path):
    pump, _ = story
    trial, dose = pump.screening_trial, pump.screening_trial.doses.get()
    response = summary_of(logged_in(team[2]), trial)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="screening-summary-{trial.pk}.pdf"'
    assert rasterise_first_page(response.content, "screening_summary").stat().st_size > 0
    text = pdf_text(response.content, tmp_path)
    assert "Byrne, Ada" in text and "MRN DOC-1" in text
    assert f"Decision: Candidate for an implanted pump (S9) · pump SynchroMed II {pump.serial}" in text
    assert f"Test dose 1: 50.0 mcg (1.00 mL, lumbar puncture, over 90 s, lot LOT-1) given " \
           f"{on_paper(dose.administered_at)} by Nina Okoro" in text  # fmt: skip
    assert "Assessed positive, lasting 6.0 h, by Niamh Nolan" in text
    # S5: the Ashworth and Penn curves after the dose, drawn and described.
    assert "Modified Ashworth (mean of assessed limbs)" in text and "Penn spasm frequency score" in text
    assert "Modified Ashworth (mean) after test dose 1 (50.0 mcg): 3 at" in text
    assert "Penn spasm frequency after test dose 1 (50.0 mcg): 3 at" in text
    assert text.count("hours since the dose (baseline before 0)") == 2
    assert "1+" in text  # Ashworth in its clinical notation


def test_each_dose_of_a_longer_trial_is_printed_with_its_own_assessment_s9(clock, patient, team, tmp_path):
    nurse, _, neurologist = team
    trial = screened(clock, patient, nurse, neurologist, (Response.INADEQUATE, Response.POSITIVE))
    text = pdf_text(summary_of(logged_in(nurse), trial).content, tmp_path)
    assert "Test dose 1: 50.0 mcg" in text and "Assessed inadequate" in text
    assert "Test dose 2: 75.0 mcg" in text and "Assessed positive, lasting 6.0 h" in text
    assert "Decision: Candidate for an implanted pump (S9)" in text
    assert text.count("hours since the dose (baseline before 0)") == 4


def test_a_trial_still_under_way_prints_no_decision(clock, patient, team, tmp_path):
    nurse, _, neurologist = team
    trial = screened(clock, patient, nurse, neurologist, (Response.INADEQUATE,))
    text = pdf_text(summary_of(logged_in(nurse), trial).content, tmp_path)
    assert "Decision: Screening under way: no decision yet" in text
    assert "Candidate" not in text


def test_a_trial_without_a_test_dose_has_no_summary_and_the_page_says_why_s1(clock, patient, team):
    trial = screening.open_trial(actor=team[2], patient=patient)
    response = summary_of(logged_in(team[2]), trial)
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "No test dose has been given on this screening trial (S1)" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_PRINTED).exists()


@pytest.mark.parametrize("responses", [(Response.POSITIVE,), (Response.INADEQUATE, Response.POSITIVE)])
def test_the_summary_is_read_in_four_queries_however_many_doses_and_observations(
    clock, patient, team, responses, django_assert_num_queries
):
    nurse, _, neurologist = team
    trial = screened(clock, patient, nurse, neurologist, responses)
    nurse = reader_with_wards(nurse)
    # The trial with its patient and opener, its doses with their assessments, its observations, the pump it led to.
    with django_assert_num_queries(4):
        summary = selectors.screening_summary(nurse, trial.pk)
    assert len(summary.doses) == len(responses) and len(summary.observations) == 4 * len(responses)
