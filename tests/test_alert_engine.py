"""The due-check engine: durable rows claimed when due, raised once, escalated on time (A1, A2)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections, transaction

from alerts import services
from alerts.models import Alert, AlertEmail, DueCheck
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain
from wardflow.protocol import Severity
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CHECK = "test.observation_due"
calls: list[int] = []


@services.check_handler(CHECK)
def _observation_still_missing(check, now):
    """Stands in for a feature's handler: raises a nurse alert tied to the check that found the gap."""
    calls.append(check.pk)
    if check.payload.get("explode"):
        raise RuntimeError("evaluation failed")
    if check.payload.get("crash"):
        raise KeyboardInterrupt  # the worker dies mid-check
    services.raise_alert(
        kind="observation_overdue",
        severity=Severity(check.payload.get("severity", "warning")),
        patient=check.patient,
        rule="A1",
        message="Observation overdue",
        target_role=Role.NURSE,
        subject=check,
        due_at=check.due_at,
        source_check=check,
        at=now,
    )


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-1")


def schedule(patient, due_at=T0, **payload):
    with transaction.atomic():
        return services.schedule_check(CHECK, due_at=due_at, patient=patient, payload=payload)


@pytest.mark.django_db
def test_a_due_check_raises_its_alert_and_closes(patient):
    check = schedule(patient)
    report = services.dispatch_due_checks(now=T0 + timedelta(minutes=1))
    assert report.done == 1
    check.refresh_from_db()
    assert check.state == DueCheck.State.DONE
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.state, alert.target_role) == (
        "observation_overdue",
        "warning",
        "open",
        "nurse",
    )
    assert AuditEvent.objects.filter(action="alert.raised", patient=patient).count() == 1


@pytest.mark.django_db
def test_a_check_not_yet_due_is_left_alone(patient):
    check = schedule(patient)
    assert services.dispatch_due_checks(now=T0 - timedelta(seconds=1)).done == 0
    check.refresh_from_db()
    assert check.state == DueCheck.State.PENDING
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_a_check_resolved_before_it_fell_due_closes_silently(patient):
    with transaction.atomic():
        services.schedule_check(CHECK, due_at=T0, patient=patient, subject=patient)
        assert services.cancel_checks(subject=patient, kinds=[CHECK]) == 1
    assert services.dispatch_due_checks(now=T0 + timedelta(hours=1)).done == 0
    assert not Alert.objects.exists()
    assert not AuditEvent.objects.filter(action="alert.raised").exists()


@pytest.mark.django_db
def test_a_failing_check_is_retried_later_and_leaves_no_partial_alert(patient):
    check = schedule(patient, explode=True)
    report = services.dispatch_due_checks(now=T0)
    assert (report.done, report.failed) == (0, 1)
    check.refresh_from_db()
    assert check.state == DueCheck.State.PENDING
    assert check.attempts == 1 and "evaluation failed" in check.last_error
    assert check.due_at > T0
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_a_check_that_keeps_failing_is_marked_failed(patient):
    check = schedule(patient, explode=True)
    now = T0
    for _ in range(services.MAX_CHECK_ATTEMPTS):
        services.dispatch_due_checks(now=now)
        now += timedelta(hours=2)
    check.refresh_from_db()
    assert check.state == DueCheck.State.FAILED
    assert check.attempts == services.MAX_CHECK_ATTEMPTS


@pytest.mark.django_db
def test_a_redelivered_check_does_not_raise_a_second_alert(patient):
    check = schedule(patient)
    services.dispatch_due_checks(now=T0)
    DueCheck.objects.filter(pk=check.pk).update(state=DueCheck.State.PENDING)  # the same row handed out again
    services.dispatch_due_checks(now=T0 + timedelta(minutes=1))
    assert Alert.objects.count() == 1
    assert AuditEvent.objects.filter(action="alert.raised").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_dying_mid_check_loses_nothing(allow_audit_flush, make_patient, ward):
    patient = make_patient(ward, "MRN-9")
    check = schedule(patient, crash=True)
    with pytest.raises(KeyboardInterrupt):
        services.dispatch_due_checks(now=T0)
    check.refresh_from_db()
    assert (check.state, check.attempts) == (DueCheck.State.PENDING, 0)  # the claim rolled back with the worker
    DueCheck.objects.filter(pk=check.pk).update(payload={})
    assert services.dispatch_due_checks(now=T0).done == 1
    assert Alert.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_raise_each_alert_exactly_once(allow_audit_flush, make_patient, ward):
    patients = [make_patient(ward, f"MRN-{i}") for i in range(60)]
    for patient in patients:
        schedule(patient)
    calls.clear()
    barrier = threading.Barrier(2)
    reports = []

    def dispatcher():
        try:
            barrier.wait()
            reports.append(services.dispatch_due_checks(now=T0, batch_size=7))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.done for r in reports) == 60
    assert len(calls) == 60 and len(set(calls)) == 60
    assert Alert.objects.count() == 60
    assert AuditEvent.objects.filter(action="alert.raised").count() == 60
    assert verify_chain().ok


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


# --- inbox and acknowledgement (A2) -----------------------------------------------------------------------------


def raise_now(patient, severity=Severity.WARNING, target_role=Role.NURSE, kind="observation_overdue"):
    with transaction.atomic():
        return services.raise_alert(
            kind=kind,
            severity=severity,
            patient=patient,
            rule="A1",
            message="Observation overdue",
            target_role=target_role,
            subject=patient,
        )


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


@pytest.fixture
def email_on(settings):
    settings.ALERT_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
def test_alert_is_emailed_to_the_target_staff_and_delivery_audited(email_on, make_staff, ward, patient):
    nurse = make_staff(Role.NURSE, ward)
    nurse.email = "nurse@example.org"
    nurse.save()
    raise_now(patient)
    assert services.send_pending_emails() == 1
    (message,) = mail.outbox
    assert message.to == ["nurse@example.org"]
    assert "A1" in message.subject and "MRN-1" in message.body
    assert AuditEvent.objects.filter(action="alert.delivered").count() == 1


class _BrokenMailServer:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.django_db
def test_a_failing_mail_server_loses_nothing_and_the_send_is_retried(
    email_on, settings, make_staff, ward, patient, api_as
):
    nurse = make_staff(Role.NURSE, ward)
    nurse.email = "nurse@example.org"
    nurse.save()
    settings.EMAIL_BACKEND = f"{__name__}._BrokenMailServer"
    alert = raise_now(patient)
    assert services.send_pending_emails() == 0
    email = AlertEmail.objects.get()
    assert (email.state, email.attempts) == (AlertEmail.State.PENDING, 1)
    assert [a["id"] for a in api_as(nurse).get("/api/v1/alerts/").json()["results"]] == [alert.pk]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.send_pending_emails(now=email.next_attempt_at) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_run_scheduler_once_evaluates_as_of_the_given_time(patient, capsys):
    schedule(patient)
    call_command("run_scheduler", "--once", "--now", "2026-11-26T07:59:00+00:00")
    assert not Alert.objects.exists()
    call_command("run_scheduler", "--once", "--now", "2026-11-26T08:00:00+00:00")
    assert Alert.objects.count() == 1
    assert "due checks done: 1" in capsys.readouterr().out
