"""The dispatcher: durable rows claimed when due, evaluated once, retried on failure (A1)."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from alerts import services
from alerts.models import Alert, DueCheck
from tests.alerts.support import CHECK, T0, calls, schedule
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain


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
def test_cancelling_a_subjects_checks_closes_its_own_pending_ones_of_the_kinds_named(patient, make_patient, ward):
    """No kind named closes none; no kinds given closes every one of the subject's; another subject's stay due."""
    other = make_patient(ward, "MRN-2")
    with transaction.atomic():
        own = [services.schedule_check(kind, due_at=T0, patient=patient, subject=patient)
               for kind in (CHECK, "test.nothing_to_do")]  # fmt: skip
        kept = services.schedule_check(CHECK, due_at=T0, patient=other, subject=other)
        assert services.cancel_checks(subject=patient, kinds=[]) == 0
        assert DueCheck.objects.filter(state=DueCheck.State.PENDING).count() == 3
        assert services.cancel_checks(subject=patient) == 2
    assert {check.state for check in DueCheck.objects.filter(pk__in=[c.pk for c in own])} == {"cancelled"}
    assert DueCheck.objects.get(pk=kept.pk).state == DueCheck.State.PENDING
    assert services.dispatch_due_checks(now=T0 + timedelta(hours=1)).done == 1  # the other patient's alone


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
def test_run_scheduler_once_evaluates_as_of_the_given_time(patient, capsys):
    schedule(patient)
    call_command("run_scheduler", "--once", "--now", "2026-11-26T07:59:00+00:00")
    assert not Alert.objects.exists()
    call_command("run_scheduler", "--once", "--now", "2026-11-26T08:00:00+00:00")
    assert Alert.objects.count() == 1
    assert "due checks done: 1" in capsys.readouterr().out


def _nothing_to_do(check, now):
    """A handler with no work of its own: what a cycle then costs is the dispatcher's."""


@pytest.mark.django_db
def test_a_cycle_closes_its_evaluated_checks_in_one_statement(patient, django_assert_max_num_queries):
    """Claim, a savepoint per check (a failing one is rolled back alone), one update closing the batch, and the
    claim that finds nothing more: the cost per due check is its savepoint."""
    services.register_check_handlers({"test.nothing_to_do": _nothing_to_do})
    with transaction.atomic():
        checks = [services.schedule_check("test.nothing_to_do", due_at=T0 - timedelta(minutes=n)) for n in range(5)]
    with django_assert_max_num_queries(3 + 2 * len(checks) + 1 + 3):
        report = services.dispatch_due_checks(now=T0)
    assert report.done == len(checks)
    assert set(DueCheck.objects.values_list("state", "attempts")) == {(DueCheck.State.DONE, 1)}
