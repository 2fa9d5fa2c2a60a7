"""D5 (21 CFR 11.50, 11.200, 11.300(d)): signatures of dose changes through the API and the approval page."""

from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from tests.titration.support import PASSWORD, approve, candidate_trial, implant_fields
from titration import services
from titration.models import DoseChange
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes(clock, neurologist, nurse, make_patient, ward) -> list[DoseChange]:
    """Two initial dose changes awaiting signature, on two patients implanted now."""
    proposed = []
    for mrn in ("SIGN-1", "SIGN-2"):
        patient = make_patient(ward, mrn, date_of_birth=date(1975, 4, 2))
        trial = candidate_trial(clock, neurologist, nurse, patient)
        pump = services.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial))
        proposed.append(pump.dose_changes.get())
    return proposed


@pytest.fixture
def fresh_login(client, neurologist):
    """A tablet that has just logged in: a new token, no signature in its session yet."""
    response = client.post(
        "/api/v1/auth/token/", {"username": neurologist.username, "password": PASSWORD}, content_type="application/json"
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return api


def _state(change) -> str:
    return DoseChange.objects.get(pk=change.pk).state


def test_the_first_signature_of_a_token_session_without_user_name_answers_400_and_signs_nothing(fresh_login, changes):
    response = approve(fresh_login, changes[0].pk)
    assert response.status_code == 400
    assert "username" in response.json()
    assert _state(changes[0]) == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.approved").exists()


def test_after_a_first_signature_with_user_name_the_password_alone_signs(fresh_login, changes, neurologist):
    assert approve(fresh_login, changes[0].pk, username=neurologist.username).status_code == 200
    response = approve(fresh_login, changes[1].pk)
    assert response.status_code == 200
    assert _state(changes[1]) == "approved"
    assert not AuditEvent.objects.filter(action="signature.failed").exists()


def test_a_new_login_asks_for_the_user_name_again(client, fresh_login, changes, neurologist):
    assert approve(fresh_login, changes[0].pk, username=neurologist.username).status_code == 200
    token = client.post(
        "/api/v1/auth/token/", {"username": neurologist.username, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    second_login = APIClient()
    second_login.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert approve(second_login, changes[1].pk).status_code == 400
    assert _state(changes[1]) == "proposed"


def test_the_signed_record_shows_full_name_time_and_the_meaning_given(fresh_login, changes, neurologist):
    neurologist.first_name, neurologist.last_name = "Nora", "Nolan"
    neurologist.save()
    response = approve(fresh_login, changes[0].pk, username=neurologist.username, meaning="approval")
    assert response.status_code == 200
    assert response.json()["signature_meaning"].startswith("Approved by Nora Nolan at 2026-10-01 09:00 BST: ")
    assert "dr_nolan" not in response.json()["signature_meaning"]


def test_an_unknown_signature_meaning_answers_400_and_signs_nothing(api_as, changes, neurologist):
    response = approve(api_as(neurologist), changes[0].pk, meaning="authorship")
    assert response.status_code == 400 and "meaning" in response.json()
    assert _state(changes[0]) == "proposed"


def test_a_wrong_user_name_answers_403_and_is_audited_d5(fresh_login, changes, neurologist, second_neurologist):
    response = approve(fresh_login, changes[0].pk, username=second_neurologist.username)
    assert response.status_code == 403
    assert _state(changes[0]) == "proposed"
    failed = AuditEvent.objects.get(action="signature.failed")
    assert (failed.actor, failed.rules, failed.after) == (neurologist, ["D5"], {"failed": "user name"})
    assert failed.subject_id == str(changes[0].pk) and failed.patient_id == changes[0].pump.patient_id


def test_a_wrong_password_answers_403_and_is_audited_d5(api_as, changes, neurologist):
    response = approve(api_as(neurologist), changes[0].pk, password="not my password")
    assert response.status_code == 403
    assert _state(changes[0]) == "proposed"
    assert AuditEvent.objects.get(action="signature.failed").after == {"failed": "password"}
    assert not AuditEvent.objects.filter(action="signature.locked").exists()


def test_five_failures_lock_signing_with_423_even_for_the_right_password(
    api_as, changes, neurologist, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    administrator.email = "ada@hospital.example"
    administrator.save()
    signer = api_as(neurologist)
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [approve(signer, changes[0].pk, password=f"wrong {n}").status_code for n in range(5)]
    assert statuses == [403, 403, 403, 403, 423]
    locked = approve(signer, changes[0].pk)
    assert locked.status_code == 423 and locked.json()["rule"] == "D5"
    assert _state(changes[0]) == "proposed"
    assert AuditEvent.objects.filter(action="signature.failed").count() == 5
    lock = AuditEvent.objects.get(action="signature.locked")
    assert (lock.subject_id, lock.rules) == (str(neurologist.pk), ["D5"])
    assert [m.to for m in mailoutbox] == [["ada@hospital.example"]]
    assert neurologist.username in mailoutbox[0].body


def test_signing_is_unlocked_after_15_minutes(clock, api_as, changes, neurologist):
    signer = api_as(neurologist)
    for n in range(5):
        approve(signer, changes[0].pk, password=f"wrong {n}")
    clock.shift(timedelta(minutes=14, seconds=59))
    assert approve(signer, changes[0].pk).status_code == 423
    clock.shift(timedelta(seconds=1))
    assert approve(signer, changes[0].pk).status_code == 200
    assert _state(changes[0]) == "approved"


def test_failures_older_than_15_minutes_do_not_count_towards_the_lock(clock, api_as, changes, neurologist):
    signer = api_as(neurologist)
    for n in range(4):
        approve(signer, changes[0].pk, password=f"wrong {n}")
    clock.shift(timedelta(minutes=15))
    assert approve(signer, changes[0].pk, password="wrong again").status_code == 403
    assert AuditEvent.objects.filter(action="signature.failed").count() == 5
    assert not AuditEvent.objects.filter(action="signature.locked").exists()
    assert approve(signer, changes[0].pk).status_code == 200


def test_a_lock_is_the_failing_signers_own(api_as, changes, neurologist, second_neurologist):
    other = api_as(second_neurologist)
    statuses = [approve(other, changes[0].pk, password=f"wrong {n}").status_code for n in range(5)]
    assert statuses[-1] == 423
    assert approve(api_as(neurologist), changes[0].pk).status_code == 200


def test_the_approval_page_asks_the_user_name_at_the_first_signature_of_the_web_session(client, changes, neurologist):
    client.post("/accounts/login/", {"username": neurologist.username, "password": PASSWORD})
    page = f"/dose-changes/{changes[0].pk}/approve/"
    refused = client.post(page, {"password": PASSWORD})
    assert refused.status_code == 200 and "D5" in refused.content.decode()
    assert _state(changes[0]) == "proposed"
    assert client.post(page, {"username": neurologist.username, "password": PASSWORD}).status_code == 302
    assert _state(changes[0]) == "approved"
    second = client.post(f"/dose-changes/{changes[1].pk}/approve/", {"password": PASSWORD})
    assert second.status_code == 302
    assert _state(changes[1]) == "approved"
