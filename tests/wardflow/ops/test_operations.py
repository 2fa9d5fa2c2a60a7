"""Operations: production settings refuse an insecure start, /healthz, structured logs, read-only admin."""

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from wardflow.ops import health
from wardflow.ops.logging import RequestContextFilter, current_request

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION_KEY = "p" * 30 + "-Zq8v!w3Lr0xT7yN2mB5kC9dF1gH4jS6"


def run_django(code: str, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", [None, "", "change-me", "django-insecure-abc", "short-but-not-default"])
def test_production_refuses_to_start_without_a_strong_secret_key(key):
    env = {} if key is None else {"SECRET_KEY": key}
    result = run_django("print('started')", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "started" not in result.stdout


def test_production_starts_with_a_strong_secret_key():
    result = run_django("print('started')", SECRET_KEY=PRODUCTION_KEY)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_deploy_check_reports_nothing_under_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update(SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="wardflow.example.org")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.fixture
def fresh_heartbeat():
    health.record_heartbeat()
    yield
    health.redis_client().delete(health.HEARTBEAT_KEY)


@pytest.mark.django_db
def test_healthz_is_200_when_database_redis_and_beat_are_alive(client, fresh_heartbeat):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_beat_when_its_heartbeat_is_stale(client, settings):
    health.record_heartbeat(now=time.time() - settings.BEAT_MAX_SILENCE_SECONDS - 5)
    try:
        response = client.get("/healthz")
    finally:
        health.redis_client().delete(health.HEARTBEAT_KEY)
    assert response.status_code == 503
    assert list(response.json()["failing"]) == ["beat"]


@pytest.mark.django_db
def test_healthz_is_503_naming_redis_when_it_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "redis" in response.json()["failing"]


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_when_it_fails(client, monkeypatch, fresh_heartbeat):
    monkeypatch.setattr(health, "connection", _BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert list(response.json()["failing"]) == ["database"]


class _BrokenConnection:
    def cursor(self):
        from django.db import OperationalError

        raise OperationalError("connection refused")


@pytest.mark.django_db
def test_beat_heartbeat_task_makes_health_green(client):
    from wardflow.ops.tasks import beat_heartbeat

    health.redis_client().delete(health.HEARTBEAT_KEY)
    assert client.get("/healthz").status_code == 503
    beat_heartbeat.apply()
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        health.redis_client().delete(health.HEARTBEAT_KEY)


def test_json_log_lines_carry_request_id_and_user(rf, django_user_model):
    from pythonjsonlogger.json import JsonFormatter

    request = rf.get("/")
    request.request_id = "req-42"
    request.user = django_user_model(username="nina")
    record = logging.LogRecord("wardflow", logging.INFO, __file__, 1, "dose given", None, None)
    token = current_request.set(request)
    try:
        RequestContextFilter().filter(record)
    finally:
        current_request.reset(token)
    line = json.loads(JsonFormatter("%(message)s %(request_id)s %(user)s").format(record))
    assert line == {"message": "dose given", "request_id": "req-42", "user": "nina"}


@pytest.mark.django_db
def test_responses_carry_a_request_id(client):
    assert len(client.get("/accounts/login/")["X-Request-ID"]) == 32
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="proxy-1")["X-Request-ID"] == "proxy-1"


@pytest.mark.django_db
def test_admin_cannot_add_change_or_delete_clinical_or_audit_records(admin_client):
    for path in ["patients/patient", "audit/auditevent", "staff/ward"]:
        assert admin_client.get(f"/admin/{path}/add/").status_code == 403
        assert admin_client.get(f"/admin/{path}/").status_code == 200


@pytest.mark.django_db
def test_login_page_and_schema_are_served(client):
    assert b'name="password"' in client.get("/accounts/login/").content
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/patients/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert not re.search(rb'(src|href)="https?://', docs.content), "ward networks are closed: no CDN"


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    for path in ["/api/v1/screening-trials/{id}/doses/", "/api/v1/dose-changes/{id}/programmed/", "/api/v1/alerts/"]:
        assert path in schema
