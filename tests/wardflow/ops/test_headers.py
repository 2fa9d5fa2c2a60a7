"""Response headers of a clinical system: a strict Content-Security-Policy with no inline script, a Permissions-Policy,
no caching of pages or API answers with patient data, and the idle logout of web sessions whatever headers come."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
# An executable inline script: a <script> without src= that is not a JSON data block (json_script).
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.IGNORECASE)

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-H1")


def directives(response) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_pages_carry_a_content_security_policy_allowing_only_the_apps_own_scripts(nurse, patient):
    response = logged_in(nurse).get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_no_page_relies_on_an_inline_script(nurse, patient):
    for path in ("/ward/", f"/patients/{patient.pk}/", "/alerts/"):
        response = logged_in(nurse).get(path)
        assert response.status_code == 200
        assert INLINE_SCRIPT.findall(response.content) == [], path
    assert b"js/idle-logout.js" in response.content


def test_pages_and_api_answers_carry_a_permissions_policy(nurse, patient, api_as):
    page = logged_in(nurse).get(f"/patients/{patient.pk}/")
    answer = api_as(nurse).get(f"/api/v1/patients/{patient.pk}/")
    for response in (page, answer):
        assert response.status_code == 200
        policy = response["Permissions-Policy"]
        assert {"camera=()", "microphone=()", "geolocation=()"} <= {part.strip() for part in policy.split(",")}


def test_pages_and_api_answers_with_patient_data_are_never_stored(nurse, patient, api_as):
    page = logged_in(nurse).get(f"/patients/{patient.pk}/")
    answer = api_as(nurse).get(f"/api/v1/patients/{patient.pk}/")
    for response in (page, answer):
        assert response.status_code == 200
        assert b"MRN-H1" in response.content
        assert "no-store" in response["Cache-Control"]
        assert "public" not in response["Cache-Control"]


def test_an_authorization_header_does_not_keep_an_idle_web_session_alive(nurse):
    with time_machine.travel(T0, tick=False) as clock:
        client = logged_in(nurse)
        assert client.get("/ward/").status_code == 200
        clock.shift(timedelta(minutes=16))
        response = client.get("/ward/", HTTP_AUTHORIZATION="Token anything")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?idle=1")
        assert client.get("/ward/").status_code == 302  # the session is gone, not only this answer
