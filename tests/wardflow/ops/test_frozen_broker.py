"""A frozen broker (Redis accepts the connection and never answers) never holds a request: the clinical change is
committed and answered, and the work the broker would have started stays in PostgreSQL for the periodic sweep."""

import contextlib
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alerts.models import Alert, AlertEmail
from config.celery import app
from screening.models import Observation

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def frozen_broker():
    """A TCP server that accepts every connection and never sends a byte, standing in for a frozen Redis. It hangs
    up after 5 s so that a client without timeouts fails the test instead of hanging it."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted, stop = [], threading.Event()

    def accept_forever():
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append((server.accept()[0], time.monotonic()))
            for connection, at in accepted:
                if time.monotonic() - at > 5:
                    connection.close()

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    previous_url, previous_pool = app.conf.broker_url, app._pool
    app.conf.broker_url, app._pool = url, None
    yield accepted
    app.conf.broker_url, app._pool = previous_url, previous_pool
    stop.set()
    thread.join()
    for connection, _ in accepted:
        connection.close()
    server.close()


@pytest.fixture
def implanted_patient(make_patient, implant_directly, ward, neurologist):
    with time_machine.travel(T0 - timedelta(days=31)):  # registered before the times charted below
        patient = make_patient(ward, "MRN-PUMP")
    implant_directly(patient, neurologist, implanted_at=T0 - timedelta(days=30))
    return patient


@pytest.mark.django_db
def test_charting_an_urgent_sign_answers_201_within_2_s_with_a_frozen_broker_and_the_emails_stay_pending(
    settings, frozen_broker, implanted_patient, nurse, neurologist, api_as, django_capture_on_commit_callbacks, caplog
):
    settings.ALERT_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    neurologist.email, nurse.email = "neuro@example.org", "nurse@example.org"
    neurologist.save(), nurse.save()
    body = {"observed_at": T0.isoformat(), "ashworth_mean": "3", "penn_spasm_frequency": "3", "heart_rate": "72",
            "systolic_bp": "124", "diastolic_bp": "78", "respiratory_rate": "14", "spo2": "98",
            "temperature_c": "39.2", "sedation": "alert", "signs": ["pruritus", "high_fever"]}  # fmt: skip
    client = api_as(nurse)
    with time_machine.travel(T0, tick=True):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(f"/api/v1/patients/{implanted_patient.pk}/observations/", body, format="json")
        elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 2, f"the request took {elapsed:.1f} s"
    assert callbacks, "the e-mail task was not queued after commit"
    assert frozen_broker, "the broker was never called"
    assert Observation.objects.count() == 1
    assert Alert.objects.get().severity == "urgent"
    emails = AlertEmail.objects.all()
    assert emails and {email.state for email in emails} == {AlertEmail.State.PENDING}
    assert {email.attempts for email in emails} == {0}
    assert "could not queue the alert e-mail task" in caplog.text
