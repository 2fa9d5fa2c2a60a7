"""Login lockout (21 CFR 11.300(d)): five wrong passwords for a user name lock its logins for 15 minutes, on the
web login, the API token endpoint and the admin login alike; failed logins are logged with who, where from and
the request id."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from knox.models import AuthToken

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _fail_five_times(client, path, username, **kwargs):
    return [client.post(path, {"username": username, "password": f"guess {n}"}, **kwargs).status_code
            for n in range(5)]  # fmt: skip


def test_web_login_is_refused_with_a_message_after_five_wrong_passwords_even_with_the_right_one(clock, client, nurse):
    _fail_five_times(client, "/accounts/login/", "nina")
    response = client.post("/accounts/login/", {"username": "nina", "password": PASSWORD})
    assert response.status_code == 429
    assert "logging in is locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_web_login_works_again_15_minutes_after_the_last_failure(clock, client, nurse):
    _fail_five_times(client, "/accounts/login/", "nina")
    clock.shift(timedelta(minutes=14))
    assert client.post("/accounts/login/", {"username": "nina", "password": PASSWORD}).status_code == 429
    clock.shift(timedelta(minutes=16))
    assert client.post("/accounts/login/", {"username": "nina", "password": PASSWORD}).status_code == 302
    assert client.session["_auth_user_id"] == str(nurse.pk)


def test_four_wrong_passwords_do_not_lock_the_web_login(clock, client, nurse):
    for n in range(4):
        client.post("/accounts/login/", {"username": "nina", "password": f"guess {n}"})
    assert client.post("/accounts/login/", {"username": "nina", "password": PASSWORD}).status_code == 302


def test_token_endpoint_answers_429_after_five_wrong_passwords_and_issues_no_token(clock, client, nurse):
    statuses = _fail_five_times(client, "/api/v1/auth/token/", "nina", content_type="application/json")
    assert statuses == [401, 401, 401, 401, 429]  # the fifth failure locks
    response = client.post(
        "/api/v1/auth/token/", {"username": "nina", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]
    assert not AuthToken.objects.exists()


def test_admin_login_is_refused_after_five_wrong_passwords_even_with_the_right_one(clock, client, administrator):
    administrator.is_staff = True
    administrator.save()
    _fail_five_times(client, "/admin/login/", "ada")
    response = client.post("/admin/login/", {"username": "ada", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 429
    assert "logging in is locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_failed_login_is_logged_with_user_name_address_and_request_id(client, nurse, caplog):
    with caplog.at_level(logging.WARNING, logger="wardflow.staff.login"):
        client.post(
            "/accounts/login/",
            {"username": "nina", "password": "guess"},
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_REQUEST_ID="req-42",
        )
    [record] = [r for r in caplog.records if r.name == "wardflow.staff.login"]
    assert (record.attempted_username, record.client_address, record.request_id) == ("nina", "10.1.2.3", "req-42")
    assert "guess" not in record.getMessage()
