"""The ward pages through Django's test client: roles see only their buttons and the server refuses the rest;
shared tablets log out when idle; errors appear next to their field with the rule id."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from screening import services as screening
from screening.models import Observation, TestDose
from tests.web.support import PASSWORD, logged_in
from wardflow.audit.models import AuditEvent
from wardflow.patients.models import Patient
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def observing_trial(clock, make_patient, ward, nurse, neurologist, chart_baseline):
    patient = make_patient(ward, "WEB-1")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    chart_baseline(nurse, trial, T0)
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    return trial, dose


def test_login_page_and_board(client, nurse, observing_trial):
    assert client.get("/ward/").status_code == 302
    response = logged_in(nurse).get("/ward/")
    assert response.status_code == 200
    assert b"WEB-1" in response.content
    assert b"Screening: observing test dose 1" in response.content


def test_role_is_shown_in_the_header(nurse):
    assert b'data-testid="role">nurse<' in logged_in(nurse).get("/ward/").content


def test_idle_session_is_logged_out_after_15_minutes(clock, nurse):
    client = logged_in(nurse)
    assert client.get("/ward/").status_code == 200
    clock.shift(timedelta(minutes=14))
    assert client.get("/ward/").status_code == 200
    clock.shift(timedelta(minutes=16))
    response = client.get("/ward/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?idle=1")
    assert b"logged out after 15 minutes without activity" in client.get(response["Location"]).content
    assert client.get("/ward/").status_code == 302  # the session is gone, not just redirected once


def test_the_idle_notice_states_the_configured_limit(settings):
    settings.IDLE_LOGOUT_SECONDS = 600
    assert b"logged out after 10 minutes without activity" in Client().get("/accounts/login/?idle=1").content


def test_automatic_board_refreshes_do_not_keep_a_tablet_logged_in(clock, nurse):
    client = logged_in(nurse)
    client.get("/ward/")
    for _ in range(4):
        clock.shift(timedelta(minutes=5))
        polled = client.get("/ward/", HTTP_HX_REQUEST="true", HTTP_X_WARDFLOW_POLL="1")
    assert polled.status_code == 204 and polled["HX-Redirect"].startswith("/accounts/login/")


def test_nurse_does_not_see_the_assessment_button_and_is_refused_anyway(clock, nurse, observing_trial):
    trial, dose = observing_trial
    client = logged_in(nurse)
    page = client.get(f"/patients/{trial.patient_id}/")
    assert b"Assess response" not in page.content
    assert b"Approvals" not in page.content
    assert client.get(f"/doses/{dose.pk}/assess/").status_code == 403
    assert client.post(f"/doses/{dose.pk}/assess/", {"response": "positive"}).status_code == 403


def test_neurologist_sees_the_assessment_button_and_the_suggestion(clock, neurologist, nurse, observing_trial):
    trial, dose = observing_trial
    page = logged_in(neurologist).get(f"/patients/{trial.patient_id}/")
    assert b"Assess response" in page.content
    assessment = logged_in(neurologist).get(f"/doses/{dose.pk}/assess/")
    assert b'data-testid="suggestion">none yet<' in assessment.content
    assert b"no observation in the 4-8 h window yet" in assessment.content  # its baseline was charted (V2)


def test_a_refusal_is_shown_next_to_its_field_with_the_rule_id(clock, nurse, observing_trial):
    trial, _ = observing_trial
    body = {"observed_at": "2026-11-02T08:30", "ashworth_mean": "3", "penn_spasm_frequency": "2", "heart_rate": "72",
            "systolic_bp": "120", "diastolic_bp": "80", "respiratory_rate": "14", "spo2": "104",
            "temperature_c": "36.5", "sedation": "alert"}  # fmt: skip
    response = logged_in(nurse).post(f"/patients/{trial.patient_id}/observe/", body)
    assert response.status_code == 200
    link = b'<a class="rule-link" href="/help/rules/#rule-S5">S5</a>'
    assert b'id="id_spo2-error">' + link + b": 104 is outside 0-100" in response.content
    assert Observation.objects.count() == 1  # the dose's baseline (V2) only


def test_a_workflow_refusal_is_shown_with_its_rule(clock, nurse, observing_trial):
    trial, _ = observing_trial
    clock.move_to(T0 + timedelta(hours=25))
    body = {"administered_at": "2026-11-03T09:55", "dose_mcg": "75", "volume_ml": "1.5", "lot": "L2",
            "route": "catheter", "injection_seconds": "90", "resuscitation_ready": "on"}  # fmt: skip
    response = logged_in(nurse).post(f"/trials/{trial.pk}/dose/", body)
    assert response.status_code == 200  # the form again, with the reason
    links = [f'<a class="rule-link" href="/help/rules/#rule-{rule}">{rule}</a>' for rule in ("S6", "S9")]
    assert f"has not been assessed yet ({links[0]}, {links[1]})".encode() in response.content
    assert TestDose.objects.count() == 1


def test_forms_need_the_csrf_token(nurse, observing_trial):
    trial, _ = observing_trial
    client = Client(enforce_csrf_checks=True)
    client.login(username=nurse.username, password=PASSWORD)
    assert client.post(f"/patients/{trial.patient_id}/observe/", {}).status_code == 403


def test_patient_on_another_ward_is_not_found(make_staff, other_ward, observing_trial):
    trial, _ = observing_trial
    stranger = make_staff(Role.NURSE, other_ward)
    assert logged_in(stranger).get(f"/patients/{trial.patient_id}/").status_code == 404


def test_administrator_lands_on_the_audit_page_and_may_not_open_the_board(administrator):
    client = logged_in(administrator)
    assert client.get("/").headers["Location"] == "/audit/"
    assert client.get("/ward/").status_code == 403
    page = client.get("/audit/")
    assert b"Download CSV" in page.content
    assert b'data-testid="chain-status"' in client.get("/audit/chain/").content


def test_board_costs_constant_queries(clock, make_patient, ward, nurse, neurologist, chart_baseline,
                                     django_assert_max_num_queries):  # fmt: skip
    for i in range(15):
        patient = make_patient(ward, f"B{i}")
        trial = screening.open_trial(actor=neurologist, patient=patient)
        if i % 3 == 0:
            chart_baseline(nurse, trial, T0)
            screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                     volume_ml=Decimal("1"), lot="L", route="catheter", injection_seconds=90,
                                     resuscitation_ready=True)  # fmt: skip
    client = logged_in(nurse)
    # session, user, role, ward ids, patients, trials, pumps, due checks, alerts, and the session save
    with django_assert_max_num_queries(12):
        response = client.get("/ward/", HTTP_HX_REQUEST="true")
    assert response.content.count(b'data-testid="board-row"') == 15


def _alerts_for(patients, count):
    from django.db import transaction

    from alerts import services as alerts
    from wardflow.protocol import Severity

    with transaction.atomic():
        for patient in patients[:count]:
            alerts.raise_alert(kind="observation_overdue", severity=Severity.WARNING, patient=patient, rule="A1",
                               message="Observation overdue", target_role=Role.NURSE, subject=patient)  # fmt: skip


@pytest.mark.parametrize("path", ["/alerts/", "/programming/"])
def test_nurse_lists_cost_constant_queries(clock, make_patient, ward, nurse, path, django_assert_max_num_queries):
    patients = [make_patient(ward, f"Q{i}") for i in range(12)]
    _alerts_for(patients, 12)
    client = logged_in(nurse)
    # session, user, role, ward ids, the list (joined), the navigation's alert counter, the session save
    with django_assert_max_num_queries(9):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/approvals/", "/audit/"])
def test_neurologist_lists_cost_constant_queries(clock, make_patient, ward, neurologist, path,
                                                 django_assert_max_num_queries):  # fmt: skip
    _alerts_for([make_patient(ward, f"Q{i}") for i in range(12)], 12)  # twelve audit events
    client = logged_in(neurologist)
    # session, user, role, ward ids, count, page, the navigation's alert counter, and the session save (in a savepoint)
    with django_assert_max_num_queries(10):
        assert client.get(path).status_code == 200


def test_nurse_registers_a_patient_and_the_neurologist_opens_screening(clock, nurse, neurologist, ward, other_ward):
    body = {"mrn": "NEW-1", "given_name": "Ana", "family_name": "Silva", "date_of_birth": "1990-01-02",
            "ward": ward.pk, "spasticity_origin": "spinal"}  # fmt: skip
    response = logged_in(nurse).post("/patients/new/", body)
    patient = Patient.objects.get(mrn="NEW-1")
    assert response.headers["Location"] == f"/patients/{patient.pk}/"
    assert AuditEvent.objects.filter(action="patient.registered", patient=patient).count() == 1
    elsewhere = logged_in(nurse).post("/patients/new/", {**body, "mrn": "NEW-2", "ward": other_ward.pk})
    assert b"Select a valid choice" in elsewhere.content  # only the nurse's own wards are offered
    assert logged_in(nurse).get(f"/patients/{patient.pk}/screening/").status_code == 403
    opened = logged_in(neurologist).post(f"/patients/{patient.pk}/screening/", {"first_dose_mcg": "50"})
    assert opened.status_code == 302
    assert patient.screening_trials.get().state == "awaiting_dose"


def test_a_future_birth_date_is_refused_next_to_its_field(clock, nurse, ward):
    body = {"mrn": "NEW-3", "given_name": "A", "family_name": "B", "date_of_birth": "2030-01-01", "ward": ward.pk,
            "spasticity_origin": "spinal"}  # fmt: skip
    response = logged_in(nurse).post("/patients/new/", body)
    assert b'id="id_date_of_birth-error">Date of birth cannot be in the future.' in response.content
    assert not Patient.objects.filter(mrn="NEW-3").exists()
