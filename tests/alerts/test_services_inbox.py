"""Alerts raised once per open problem, escalated on time unless acknowledged or resolved (A1, A2)."""

from datetime import timedelta

import pytest
from django.db import transaction

from alerts import services
from alerts.models import Alert
from tests.alerts.support import T0, raise_now, schedule
from wardflow.audit.models import AuditEvent
from wardflow.protocol import Severity


@pytest.mark.django_db
def test_an_open_alert_of_the_same_kind_and_subject_is_not_raised_twice(patient):
    first = raise_now(patient, Severity.INFO, kind="refill_due")
    again = raise_now(patient, Severity.INFO, kind="refill_due")
    assert first.pk == again.pk
    assert Alert.objects.count() == 1


# --- escalation (A1) --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unacknowledged_warning_escalates_to_neurologists_after_30_minutes(patient, api_as, neurologist):
    schedule(patient)
    services.dispatch_due_checks(now=T0)
    services.dispatch_due_checks(now=T0 + timedelta(minutes=29))
    assert Alert.objects.get().state == Alert.State.OPEN
    services.dispatch_due_checks(now=T0 + timedelta(minutes=30))
    alert = Alert.objects.get()
    assert alert.state == Alert.State.ESCALATED
    assert alert.escalated_at == T0 + timedelta(minutes=30)
    event = AuditEvent.objects.get(action="alert.escalated")
    assert set(event.rules) == {"A1", "A2"}
    inbox = api_as(neurologist).get("/api/v1/alerts/?state=escalated").json()["results"]
    assert [a["id"] for a in inbox] == [alert.pk]


@pytest.mark.django_db
def test_urgent_alert_escalates_after_10_minutes(patient):
    schedule(patient, severity="urgent")
    services.dispatch_due_checks(now=T0)
    services.dispatch_due_checks(now=T0 + timedelta(minutes=10))
    assert Alert.objects.get().state == Alert.State.ESCALATED


@pytest.mark.django_db
def test_acknowledged_alert_does_not_escalate(patient, api_as, nurse):
    schedule(patient)
    services.dispatch_due_checks(now=T0)
    alert = Alert.objects.get()
    assert api_as(nurse).post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 200
    services.dispatch_due_checks(now=T0 + timedelta(hours=1))
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACKNOWLEDGED
    assert not AuditEvent.objects.filter(action="alert.escalated").exists()


@pytest.mark.django_db
def test_resolved_alert_does_not_escalate(patient):
    check = schedule(patient)
    services.dispatch_due_checks(now=T0)
    with transaction.atomic():
        assert services.resolve_alerts(subject=check, at=T0 + timedelta(minutes=5)) == 1
    services.dispatch_due_checks(now=T0 + timedelta(hours=1))
    assert Alert.objects.get().state == Alert.State.RESOLVED
    assert AuditEvent.objects.filter(action="alert.resolved").count() == 1
    assert not AuditEvent.objects.filter(action="alert.escalated").exists()
