"""API tokens: hashed at rest, expiring, rotated on request, revoked on logout, password change and deactivation,
and never shown in the admin."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from knox.models import AuthToken
from rest_framework.test import APIClient

from wardflow.staff.auth import ExpiringTokenAuthentication
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _token(client, username="nina") -> str:
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["token"]


def _api(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_the_stored_value_is_not_the_token(client, nurse):
    token = _token(client)
    stored = AuthToken.objects.get(user=nurse)
    assert token not in (stored.digest, stored.token_key)
    assert token not in str(AuthToken.objects.values().get())


def test_a_token_works_for_10_hours_and_then_answers_401(clock, client, nurse):
    api = _api(_token(client))
    clock.shift(timedelta(hours=9, minutes=59))
    assert api.get("/api/v1/patients/").status_code == 200
    clock.shift(timedelta(minutes=2))
    assert api.get("/api/v1/patients/").status_code == 401
    assert not AuthToken.objects.exists()


def test_logout_revokes_the_token_in_use_only(client, nurse):
    phone, tablet = _api(_token(client)), _api(_token(client))
    assert phone.post("/api/v1/auth/logout/").status_code == 204
    assert phone.get("/api/v1/patients/").status_code == 401
    assert tablet.get("/api/v1/patients/").status_code == 200


def test_rotation_gives_a_new_token_with_a_fresh_lifetime_and_ends_the_old_one(clock, client, nurse):
    old = _api(_token(client))
    clock.shift(timedelta(hours=9))
    response = old.post("/api/v1/auth/token/rotate/")
    assert response.status_code == 200
    new = _api(response.json()["token"])
    assert old.get("/api/v1/patients/").status_code == 401
    clock.shift(timedelta(hours=9))
    assert new.get("/api/v1/patients/").status_code == 200


def test_a_password_change_revokes_every_token(client, nurse):
    api = _api(_token(client))
    nurse.set_password("another long passphrase")
    nurse.save()
    assert api.get("/api/v1/patients/").status_code == 401
    assert not AuthToken.objects.filter(user=nurse).exists()


def test_saving_the_account_without_a_new_password_keeps_its_tokens(client, nurse):
    api = _api(_token(client))
    nurse.first_name = "Nina"
    nurse.save()
    assert api.get("/api/v1/patients/").status_code == 200


def test_deactivation_revokes_every_token(client, nurse):
    api = _api(_token(client))
    nurse.is_active = False
    nurse.save()
    assert not AuthToken.objects.filter(user=nurse).exists()
    assert api.get("/api/v1/patients/").status_code == 401


def test_a_token_is_resolved_to_its_user_role_and_wards_without_compiling_a_query(
    client, nurse, ward, forbid_compiling
):
    """Every API call authenticates: its statement is compiled once, not per call (the ORM's compiling of it cost
    ten times what the database takes to answer it)."""
    token = _token(client)
    ExpiringTokenAuthentication().authenticate_credentials(token.encode())  # compiled at the first call

    forbid_compiling()
    user, auth_token = ExpiringTokenAuthentication().authenticate_credentials(token.encode())
    assert (user.pk, user.username, user.password, user.is_active) == (nurse.pk, "nina", nurse.password, True)
    assert (user.role, user.ward_ids, auth_token.user_id) == (Role.NURSE, frozenset({ward.pk}), nurse.pk)


def test_the_admin_shows_no_tokens(client, administrator):
    administrator.is_staff = administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    assert not any(model._meta.app_label in {"knox", "authtoken"} for model in admin.site._registry)
    assert client.get("/admin/knox/authtoken/").status_code == 404
