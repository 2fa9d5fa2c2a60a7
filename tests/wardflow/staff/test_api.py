import pytest

from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role, Ward

pytestmark = pytest.mark.django_db


def test_token_for_valid_credentials(client, nurse):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "nina", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert len(response.json()["token"]) == 64


def test_wrong_password_answers_401(client, nurse):
    response = client.post(
        "/api/v1/auth/token/", {"username": "nina", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 401


def test_missing_password_answers_400_naming_the_field(client):
    response = client.post("/api/v1/auth/token/", {"username": "nina"}, content_type="application/json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_no_credentials_answer_401(api_as, ward):
    assert api_as(None).get("/api/v1/patients/").status_code == 401


def test_bad_token_answers_401(ward):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert client.get("/api/v1/patients/").status_code == 401


def test_session_login_reaches_the_api(client, nurse):
    client.login(username="nina", password="correct horse battery staple")
    assert client.get("/api/v1/patients/").status_code == 200


def test_administrator_creates_a_ward_and_it_is_audited(api_as, administrator):
    response = api_as(administrator).post("/api/v1/wards/", {"code": "ICU2", "name": "Intensive care 2"}, format="json")
    assert response.status_code == 201
    assert response.json()["code"] == "ICU2"
    event = AuditEvent.objects.get(action="ward.created")
    assert event.actor == administrator
    assert event.after == {"code": "ICU2", "name": "Intensive care 2"}


def test_administrator_lists_wards(api_as, administrator, ward, other_ward):
    response = api_as(administrator).get("/api/v1/wards/")
    assert response.status_code == 200
    assert [w["code"] for w in response.json()["results"]] == ["N3", "R1"]


def test_duplicate_ward_code_is_refused_and_nothing_written(api_as, administrator, ward):
    response = api_as(administrator).post("/api/v1/wards/", {"code": "N3", "name": "Again"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()
    assert Ward.objects.count() == 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", [Role.NURSE, Role.NEUROLOGIST])
def test_clinical_roles_may_not_manage_wards(api_as, make_staff, ward, role):
    client = api_as(make_staff(role, ward))
    assert client.get("/api/v1/wards/").status_code == 403
    assert client.post("/api/v1/wards/", {"code": "X", "name": "X"}, format="json").status_code == 403
    assert Ward.objects.count() == 1


def test_user_without_a_role_is_refused(api_as, db):
    from wardflow.staff.models import User

    user = User.objects.create_user(username="visitor", password="correct horse battery staple")
    assert api_as(user).get("/api/v1/wards/").status_code == 403
    assert api_as(user).get("/api/v1/patients/").status_code == 403


def test_ward_listing_costs_constant_queries(api_as, administrator, django_assert_max_num_queries):
    Ward.objects.bulk_create(Ward(code=f"W{i}", name=f"Ward {i}") for i in range(30))
    client = api_as(administrator)
    # token and user, role, count, page: whatever the number of wards
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/wards/")
    assert response.json()["count"] == 30
