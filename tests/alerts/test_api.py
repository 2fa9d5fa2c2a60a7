"""The alert inbox API: by role and ward, acknowledgement (A2), constant queries."""

import pytest

from alerts.models import Alert
from tests.alerts.support import raise_now
from wardflow.audit.models import AuditEvent
from wardflow.protocol import Severity
from wardflow.staff.models import Role


@pytest.mark.django_db
def test_inbox_holds_only_the_callers_role_and_wards(api_as, nurse, neurologist, make_patient, ward, other_ward):
    here, there = make_patient(ward, "H"), make_patient(other_ward, "T")
    for_nurse = raise_now(here)
    raise_now(there)
    for_neurologist = raise_now(here, Severity.URGENT, Role.NEUROLOGIST, kind="overdose_signs")
    assert [a["id"] for a in api_as(nurse).get("/api/v1/alerts/?state=open").json()["results"]] == [for_nurse.pk]
    assert [a["id"] for a in api_as(neurologist).get("/api/v1/alerts/").json()["results"]] == [for_neurologist.pk]


@pytest.mark.django_db
def test_inbox_fields_follow_the_contract(api_as, nurse, patient):
    alert = raise_now(patient)
    (item,) = api_as(nurse).get("/api/v1/alerts/?state=open").json()["results"]
    for field in ["id", "kind", "severity", "patient", "raised_at", "due_at", "message", "rule", "state"]:
        assert field in item
    assert (item["id"], item["patient"], item["rule"]) == (alert.pk, patient.pk, "A1")


@pytest.mark.django_db
def test_state_filter(api_as, nurse, patient, make_patient, ward):
    raise_now(patient)
    done = raise_now(make_patient(ward, "X"))
    api_as(nurse).post(f"/api/v1/alerts/{done.pk}/acknowledge/")
    client = api_as(nurse)
    assert len(client.get("/api/v1/alerts/?state=open").json()["results"]) == 1
    assert len(client.get("/api/v1/alerts/?state=acknowledged").json()["results"]) == 1
    assert len(client.get("/api/v1/alerts/?state=open,acknowledged").json()["results"]) == 2


@pytest.mark.django_db
def test_nurse_acknowledges_a_warning_and_it_is_audited(api_as, nurse, patient):
    alert = raise_now(patient)
    response = api_as(nurse).post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_by"] == "nina"
    event = AuditEvent.objects.get(action="alert.acknowledged")
    assert event.actor == nurse and event.before == {"state": "open"}


@pytest.mark.django_db
def test_urgent_alert_needs_a_neurologists_acknowledgement_a2(api_as, make_staff, ward, neurologist, patient):
    alert = raise_now(patient, Severity.URGENT, Role.NURSE, kind="withdrawal_signs")
    refused = api_as(make_staff(Role.NURSE, ward)).post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert refused.status_code == 403
    assert refused.json()["rule"] == "A2"
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN
    assert not AuditEvent.objects.filter(action="alert.acknowledged").exists()


@pytest.mark.django_db
def test_acknowledging_twice_answers_409(api_as, nurse, patient):
    alert = raise_now(patient)
    client = api_as(nurse)
    client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    again = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert again.status_code == 409
    assert again.json()["rule"] == "A2"
    assert AuditEvent.objects.filter(action="alert.acknowledged").count() == 1


@pytest.mark.django_db
def test_alert_on_another_ward_answers_404(api_as, make_staff, other_ward, patient):
    alert = raise_now(patient)
    assert api_as(make_staff(Role.NURSE, other_ward)).post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 404


@pytest.mark.django_db
def test_administrator_has_no_alert_inbox(api_as, administrator):
    assert api_as(administrator).get("/api/v1/alerts/").status_code == 403


@pytest.mark.django_db
def test_inbox_costs_constant_queries(api_as, nurse, make_patient, ward, django_assert_max_num_queries):
    for i in range(25):
        raise_now(make_patient(ward, f"Q{i}"))
    client = api_as(nurse)
    # token and user, role, ward ids, count, page (ward and acknowledger joined)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/alerts/?state=open")
    assert response.json()["count"] == 25


# --- e-mail delivery --------------------------------------------------------------------------------------------
