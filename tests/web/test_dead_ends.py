"""The acts that were reachable only through the API, closed on the ward pages through the same services: resuming or
cancelling a suspended trial (S10, S1, P1), charting an infection active or resolved (P1), moving a pump to
maintenance and back (T5); each role is offered only its own acts and told whose the others are."""

from datetime import UTC, date, datetime
from html import unescape

import pytest

from screening import services as screening
from screening.models import ScreeningTrial
from tests.web.support import logged_in
from titration.models import Pump
from wardflow.audit.models import AuditEvent
from wardflow.patients.models import Patient
from wardflow.patients.services import update_patient_flags
from wardflow.protocol import Phase, TrialState

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NURSE_LINE = ("Opening screening, resuming or cancelling a trial, approving dose changes and moving a pump to "
              "maintenance are the neurologist's acts.")  # fmt: skip
pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "DEAD-1", date_of_birth=date(1980, 1, 1))


@pytest.fixture
def suspended_trial(clock, patient, neurologist) -> ScreeningTrial:
    trial = screening.open_trial(actor=neurologist, patient=patient)
    return screening.suspend_trial(actor=neurologist, trial=trial, reason="seizure under review")


@pytest.fixture
def pump(clock, patient, neurologist, implant_directly) -> Pump:
    return implant_directly(patient, neurologist, T0)


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_the_neurologist_resumes_a_suspended_trial_with_a_reason_s10(suspended_trial, neurologist):
    client = logged_in(neurologist)
    assert (
        f"/trials/{suspended_trial.pk}/resume/"
        in client.get(f"/patients/{suspended_trial.patient_id}/").content.decode()
    )
    response = client.post(f"/trials/{suspended_trial.pk}/resume/", {"reason": "seizure reviewed: unrelated"})
    assert response.status_code == 302
    suspended_trial.refresh_from_db()
    assert suspended_trial.state == TrialState.AWAITING_DOSE
    assert AuditEvent.objects.get(action="screening.resumed").reason == "seizure reviewed: unrelated"


def test_resuming_needs_a_reason(suspended_trial, neurologist):
    response = logged_in(neurologist).post(f"/trials/{suspended_trial.pk}/resume/", {"reason": " "})
    assert response.status_code == 200
    suspended_trial.refresh_from_db()
    assert suspended_trial.state == TrialState.SUSPENDED
    assert events("screening.resumed") == 0


def test_resuming_is_refused_on_the_form_with_p1_while_an_infection_is_charted(suspended_trial, nurse, neurologist):
    update_patient_flags(actor=nurse, patient=suspended_trial.patient, changes={"active_infection": True})
    client = logged_in(neurologist)
    assert (
        f"/trials/{suspended_trial.pk}/resume/"
        not in client.get(f"/patients/{suspended_trial.patient_id}/").content.decode()
    )
    opened = client.get(f"/trials/{suspended_trial.pk}/resume/").content.decode()
    assert 'data-testid="refusal"' in opened and "chart the active infection resolved" in opened
    posted = client.post(f"/trials/{suspended_trial.pk}/resume/", {"reason": "reviewed"}).content.decode()
    assert "chart the active infection resolved before screening resumes" in posted and ">P1<" in posted
    suspended_trial.refresh_from_db()
    assert suspended_trial.state == TrialState.SUSPENDED
    assert events("screening.resumed") == 0


def test_a_nurse_may_not_resume_or_cancel_a_trial(suspended_trial, nurse):
    client = logged_in(nurse)
    before = AuditEvent.objects.count()
    for act in ("resume", "cancel"):
        assert client.get(f"/trials/{suspended_trial.pk}/{act}/").status_code == 403
        assert client.post(f"/trials/{suspended_trial.pk}/{act}/", {"reason": "x"}).status_code == 403
    suspended_trial.refresh_from_db()
    assert suspended_trial.state == TrialState.SUSPENDED
    assert AuditEvent.objects.count() == before


def test_the_neurologist_cancels_a_trial_with_a_reason(suspended_trial, neurologist):
    client = logged_in(neurologist)
    assert (
        f"/trials/{suspended_trial.pk}/cancel/"
        in client.get(f"/patients/{suspended_trial.patient_id}/").content.decode()
    )
    assert client.post(f"/trials/{suspended_trial.pk}/cancel/", {"reason": "consent withdrawn"}).status_code == 302
    suspended_trial.refresh_from_db()
    assert suspended_trial.state == TrialState.CANCELLED
    assert AuditEvent.objects.get(action="screening.cancelled").reason == "consent withdrawn"
    page = client.get(f"/patients/{suspended_trial.patient_id}/").content.decode()
    assert f"/trials/{suspended_trial.pk}/cancel/" not in page and f"/trials/{suspended_trial.pk}/resume/" not in page


def test_a_cancelled_trial_is_refused_on_the_form_s9(suspended_trial, neurologist):
    screening.cancel_trial(actor=neurologist, trial=suspended_trial, reason="consent withdrawn")
    response = logged_in(neurologist).post(f"/trials/{suspended_trial.pk}/cancel/", {"reason": "again"})
    assert response.status_code == 200 and "The trial is closed (cancelled)" in response.content.decode()
    assert events("screening.cancelled") == 1


def test_a_nurse_charts_an_infection_and_then_its_resolution_p1(suspended_trial, nurse):
    patient = suspended_trial.patient
    client = logged_in(nurse)
    assert "Chart active infection" in client.get(f"/patients/{patient.pk}/").content.decode()
    charted = client.post(f"/patients/{patient.pk}/infection/", {"active_infection": "true", "reason": "UTI"})
    assert charted.status_code == 302
    patient.refresh_from_db()
    assert patient.active_infection
    assert "Chart infection resolved" in client.get(f"/patients/{patient.pk}/").content.decode()
    resolved = client.post(
        f"/patients/{patient.pk}/infection/", {"active_infection": "false", "reason": "cultures negative"}
    )
    assert resolved.status_code == 302
    patient.refresh_from_db()
    assert not patient.active_infection
    flags = AuditEvent.objects.filter(action="patient.flags_changed").order_by("id")
    assert [(e.after, e.reason) for e in flags] == [({"active_infection": True}, "UTI"),
                                                     ({"active_infection": False}, "cultures negative")]  # fmt: skip


def test_charting_the_same_infection_state_twice_writes_nothing(patient, nurse):
    client = logged_in(nurse)
    client.post(f"/patients/{patient.pk}/infection/", {"active_infection": "true"})
    client.post(f"/patients/{patient.pk}/infection/", {"active_infection": "true"})
    assert events("patient.flags_changed") == 1


def test_the_neurologist_may_chart_an_infection_too_as_the_api_allows(patient, neurologist):
    assert (
        logged_in(neurologist).post(f"/patients/{patient.pk}/infection/", {"active_infection": "true"}).status_code
        == 302
    )
    assert Patient.objects.get(pk=patient.pk).active_infection


def test_an_administrator_may_not_chart_an_infection(patient, administrator):
    client = logged_in(administrator)
    assert client.get(f"/patients/{patient.pk}/infection/").status_code == 403
    assert client.post(f"/patients/{patient.pk}/infection/", {"active_infection": "true"}).status_code == 403
    assert not Patient.objects.get(pk=patient.pk).active_infection
    assert events("patient.flags_changed") == 0


def test_the_neurologist_moves_a_pump_to_maintenance_and_back_t5(pump, neurologist):
    client = logged_in(neurologist)
    assert "Move to maintenance" in client.get(f"/patients/{pump.patient_id}/").content.decode()
    assert client.post(f"/pumps/{pump.pk}/phase/", {"phase": "maintenance", "reason": "stable dose"}).status_code == 302
    assert Pump.objects.get(pk=pump.pk).phase == Phase.MAINTENANCE
    assert "Move to titration" in client.get(f"/patients/{pump.patient_id}/").content.decode()
    assert client.post(f"/pumps/{pump.pk}/phase/", {"phase": "titration", "reason": "spasms back"}).status_code == 302
    assert Pump.objects.get(pk=pump.pk).phase == Phase.TITRATION
    assert [e.reason for e in AuditEvent.objects.filter(action="pump.phase_changed").order_by("id")] == [
        "stable dose", "spasms back"]  # fmt: skip


def test_a_repeated_phase_submit_is_refused_not_toggled_back_t5(pump, neurologist):
    client = logged_in(neurologist)
    client.post(f"/pumps/{pump.pk}/phase/", {"phase": "maintenance", "reason": "stable dose"})
    again = client.post(f"/pumps/{pump.pk}/phase/", {"phase": "maintenance", "reason": "stable dose"})
    assert again.status_code == 200 and "already in the maintenance phase" in again.content.decode()
    assert Pump.objects.get(pk=pump.pk).phase == Phase.MAINTENANCE
    assert events("pump.phase_changed") == 1


def test_a_nurse_may_not_change_the_pump_phase(pump, nurse):
    client = logged_in(nurse)
    assert client.get(f"/pumps/{pump.pk}/phase/").status_code == 403
    assert client.post(f"/pumps/{pump.pk}/phase/", {"phase": "maintenance", "reason": "x"}).status_code == 403
    assert Pump.objects.get(pk=pump.pk).phase == Phase.TITRATION
    assert events("pump.phase_changed") == 0


def test_a_nurse_sees_her_acts_only_and_whose_the_others_are(suspended_trial, pump, nurse):
    page = unescape(logged_in(nurse).get(f"/patients/{pump.patient_id}/").content.decode())
    assert NURSE_LINE in page
    assert "/resume/" not in page and "/cancel/" not in page and "/phase/" not in page
    assert "Open screening trial" not in page
    assert "Chart active infection" in page


def test_a_neurologist_is_told_that_programming_is_the_nurses_act(suspended_trial, pump, neurologist):
    page = unescape(logged_in(neurologist).get(f"/patients/{pump.patient_id}/").content.decode())
    assert "Confirming the pump programming is the nurse's act." in page
    assert NURSE_LINE not in page


def test_the_give_dose_page_of_a_suspended_trial_says_why_when_it_opens_s10(suspended_trial, nurse):
    page = unescape(logged_in(nurse).get(f"/trials/{suspended_trial.pk}/dose/").content.decode())
    assert 'data-testid="refusal"' in page
    assert "suspended" in page
    assert "Give test dose None" not in page
