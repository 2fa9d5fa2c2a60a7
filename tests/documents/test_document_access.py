"""Who may print a document and what printing leaves behind: the patient page's roles and wards (another ward's
patient does not exist for the caller), one audit event per print (D1), and nothing fetched from outside the app."""

import pytest

from documents.kinds import AuditAction, Document
from documents.render import APP_DIR, OwnFilesOnly
from tests.web.support import logged_in
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def addresses(story, patient) -> dict[Document, str]:
    pump, refill = story
    return {
        Document.EMERGENCY_CARD: f"/patients/{patient.pk}/documents/emergency-card.pdf",
        Document.REFILL_RECORD: f"/refills/{refill.pk}/record.pdf",
        Document.SCREENING_SUMMARY: f"/trials/{pump.screening_trial_id}/summary.pdf",
    }


def printed():
    return AuditEvent.objects.filter(action=AuditAction.DOCUMENT_PRINTED)


@pytest.mark.parametrize("document", list(Document))
def test_another_wards_clinician_finds_no_such_document_and_nothing_is_audited(story, patient, make_staff, other_ward,
                                                                              document):  # fmt: skip
    stranger = make_staff(Role.NEUROLOGIST, other_ward)
    response = logged_in(stranger).get(addresses(story, patient)[document])
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert not printed().exists()


@pytest.mark.parametrize("document", list(Document))
def test_an_administrator_may_not_print_patient_documents(story, patient, administrator, document):
    response = logged_in(administrator).get(addresses(story, patient)[document])
    assert response.status_code == 403
    assert not printed().exists()


@pytest.mark.parametrize("document", list(Document))
def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(story, patient, client, document):
    response = client.get(addresses(story, patient)[document])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not printed().exists()


@pytest.mark.parametrize(("document", "role_index"), [(d, i) for d in Document for i in (0, 2)])
def test_each_print_by_a_nurse_or_neurologist_writes_one_audit_event_d1(story, patient, team, document, role_index):
    pump, refill = story
    user = team[role_index]
    client = logged_in(user)
    for _ in range(2):
        assert client.get(addresses(story, patient)[document]).status_code == 200
    events = list(printed().order_by("id"))
    assert len(events) == 2
    subject = {Document.EMERGENCY_CARD: pump, Document.REFILL_RECORD: refill,
               Document.SCREENING_SUMMARY: pump.screening_trial}[document]  # fmt: skip
    for event in events:
        assert (event.actor_id, event.patient_id, event.after, event.rules) == (
            user.pk,
            patient.pk,
            {"document": document},
            ["D1"],
        )
        assert (event.subject_type, event.subject_id) == (subject._meta.label_lower, str(subject.pk))


def test_a_missing_record_answers_404_without_an_audit_event(story, team):
    client = logged_in(team[0])
    for address in ("/patients/999999/documents/emergency-card.pdf", "/refills/999999/record.pdf",
                    "/trials/999999/summary.pdf"):  # fmt: skip
        assert client.get(address).status_code == 404
    assert not printed().exists()


def test_the_renderer_fetches_the_apps_own_fonts_and_nothing_else():
    fetcher = OwnFilesOnly()
    font = fetcher.fetch((APP_DIR / "fonts" / "DejaVuSans.ttf").as_uri())
    assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    font.close()
    for address in ("https://example.org/track.png", "file:///etc/passwd",
                    (APP_DIR / ".." / "config" / "settings.py").as_uri()):  # fmt: skip
        with pytest.raises(ValueError, match="documents use the app's own files only"):
            fetcher.fetch(address)
