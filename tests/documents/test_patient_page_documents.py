"""The patient page offers the documents that exist for the patient, and no other."""

import pytest

from tests.web.support import logged_in

pytestmark = pytest.mark.django_db


def test_the_patient_page_offers_the_card_the_summary_and_each_refill_record(story, patient, team):
    pump, refill = story
    page = logged_in(team[0]).get(f"/patients/{patient.pk}/").content.decode()
    assert '<h2 id="documents">Documents</h2>' in page
    assert f'href="/patients/{patient.pk}/documents/emergency-card.pdf"' in page
    assert f'href="/trials/{pump.screening_trial_id}/summary.pdf"' in page
    assert f'href="/refills/{refill.pk}/record.pdf">Refill record of 22 Nov 2026 (PDF)' in page


def test_a_patient_only_registered_is_offered_no_document(clock, make_patient, ward, team):
    patient = make_patient(ward, "DOC-NEW")
    page = logged_in(team[0]).get(f"/patients/{patient.pk}/").content.decode()
    assert 'id="documents"' not in page and ".pdf" not in page
