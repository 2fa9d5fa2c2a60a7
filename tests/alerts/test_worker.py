"""With a real Celery worker and Redis: the due-check row, not the broker message, is the truth."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerts import services
from alerts.kinds import CheckKind
from alerts.models import Alert, DueCheck
from alerts.tasks import dispatch_due_checks
from config.celery import app
from wardflow.audit.models import AuditEvent
from wardflow.protocol import Severity
from wardflow.staff.models import Role

ROOT = Path(__file__).resolve().parents[2]
ISOLATED_REDIS_DB = 14


def _broker_url() -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{ISOLATED_REDIS_DB}"


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{quote(db['HOST'] or '127.0.0.1', safe='')}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker():
    client = redis.Redis.from_url(_broker_url())
    client.flushdb()
    yield client
    client.flushdb()


def start_worker():
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": _database_url(), "REDIS_URL": _broker_url()}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop_worker(worker, sig=signal.SIGTERM):
    os.killpg(worker.pid, sig)
    worker.wait(timeout=30)


def send_dispatch():
    with app.connection_for_write(_broker_url()) as conn:
        dispatch_due_checks.apply_async(connection=conn)


def wait_until(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)  # polling a real worker process, not waiting on clinical time
    return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_check_outlives_a_redis_restart_and_a_killed_worker(allow_audit_flush, broker, make_patient, ward):
    patient = make_patient(ward, "MRN-W")
    with transaction.atomic():  # raised 31 min ago: its escalation check (A1, 30 min) is due now
        alert = services.raise_alert(
            kind="observation_overdue",
            severity=Severity.WARNING,
            patient=patient,
            rule="A1",
            message="Observation overdue",
            target_role=Role.NURSE,
            at=timezone.now() - timedelta(minutes=31),
        )
    check = DueCheck.objects.get(kind=CheckKind.ESCALATE)

    # The dispatch message is lost with the broker's data (Redis restarted without persistence).
    send_dispatch()
    broker.flushdb()
    # A worker is killed outright.
    stop_worker(start_worker(), signal.SIGKILL)
    assert DueCheck.objects.get(pk=check.pk).state == DueCheck.State.PENDING

    # The next beat tick reaches a fresh worker: the row is still there and fires, once.
    worker = start_worker()
    try:
        send_dispatch()
        send_dispatch()  # a duplicate delivery changes nothing
        assert wait_until(lambda: DueCheck.objects.get(pk=check.pk).state == DueCheck.State.DONE)
    finally:
        stop_worker(worker)
    alert.refresh_from_db()
    assert alert.state == Alert.State.ESCALATED
    assert AuditEvent.objects.filter(action="alert.escalated").count() == 1
