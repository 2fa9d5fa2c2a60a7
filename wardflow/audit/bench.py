"""The audit trail at scale: verification and CSV export of a chain of a million events (D2, D3).

    python -m wardflow.audit.bench --events 1000000       (not part of the test suite)

`bench_audit()` builds a scratch database beside the configured one (DATABASE_URL's name + "_audit_bench"), seeds a
valid chain hashed with AuditEvent.canonical() itself, and measures in separate processes, so that each memory peak
is the process's own:
- verify_seconds: a full verification of the chain (the seeded table vacuumed first, as a trail written over months
  would be); sha256_seconds: a bare SHA-256 over the same canonical bytes;
- incremental_seconds: the verification after a signed checkpoint, with a thousand events appended since;
- export_rows_per_second and export_peak_mb: the API's CSV export streamed to the end (peak RSS of that process).
The scratch database is dropped afterwards.
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPOSITORY = Path(__file__).resolve().parents[2]
APPENDED_AFTER_CHECKPOINT = 1_000
COLUMNS = (
    "at", "entered_at", "actor_id", "actor_username", "role", "action", "patient_id", "subject_type", "subject_id",
    "before", "after", "rules", "protocol_version", "reason", "prev_hash", "record", "hash",
)  # fmt: skip
ACTIONS = (
    ("observation.charted", ["V1"]),
    ("titration.change_proposed", ["T4"]),
    ("titration.change_approved", ["T4", "T9"]),
    ("pump.refilled", ["R2"]),
)
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def seed_events(count: int, *, actor, batch: int = 20_000) -> float:
    """Append `count` valid events after the chain's head with COPY, each hashed with AuditEvent.canonical(), under
    the append lock. Returns the seconds a bare SHA-256 took over those canonical bytes (the verification's floor)."""
    from django.db import connection, transaction

    from .models import GENESIS_HASH, AuditEvent
    from .services import AUDIT_CHAIN_LOCK_KEY

    sha256_seconds = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        prev_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH
        offset = AuditEvent.objects.count()
        for start in range(0, count, batch):
            events = [_synthetic(offset + n, actor) for n in range(start, min(start + batch, count))]
            canonical = []
            for event in events:
                event.prev_hash = prev_hash
                event.seal()
                canonical.append(event.record)
                prev_hash = event.hash
            began = time.perf_counter()
            for content in canonical:
                hashlib.sha256(content).hexdigest()
            sha256_seconds += time.perf_counter() - began
            with cursor.cursor.copy(f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row([_column(event, name) for name in COLUMNS])
    return sha256_seconds


def _synthetic(n: int, actor):
    from .models import AuditEvent

    action, rules = ACTIONS[n % len(ACTIONS)]
    at = START + timedelta(seconds=n, microseconds=n % 1_000_000)
    return AuditEvent(
        at=at,
        entered_at=at + timedelta(seconds=3),
        actor_id=actor.pk,
        actor_username=actor.username,
        role=actor.role,
        action=action,
        subject_type="titration.dosechange",
        subject_id=str(n),
        before={"dose_mcg_per_day": f"{200 + n % 300}.00", "mode": "simple continuous"},
        after={"dose_mcg_per_day": f"{210 + n % 300}.00", "mode": "simple continuous"},
        rules=rules,
        protocol_version="2026.2",
        reason=f"Spasticité persistante (Ashworth 3), event {n}",
    )


def _column(event, name):
    value = getattr(event, name)
    return json.dumps(value) if name in {"before", "after"} else value


def measure_verify(events: int) -> dict:
    """Seed `events`, verify the whole chain, checkpoint it, append a few more and verify again (incrementally)."""
    from django.db import connection

    from .selectors import verify_chain
    from .services import take_checkpoint, verify

    actor = _administrator()
    sha256_seconds = seed_events(events, actor=actor)
    # A trail written over months has long been vacuumed; a million rows copied in seconds have not: without this
    # the first reads would set every row's hint bits and autovacuum would run beside the measurements.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")
    began = time.perf_counter()
    full = verify_chain(full=True)
    verify_seconds = time.perf_counter() - began
    assert full.ok and full.events == events, full
    take_checkpoint(by=actor)
    seed_events(APPENDED_AFTER_CHECKPOINT, actor=actor)
    began = time.perf_counter()
    incremental = verify()
    incremental_seconds = time.perf_counter() - began
    assert incremental.ok and incremental.events == events + APPENDED_AFTER_CHECKPOINT, incremental
    return {
        "verify_seconds": verify_seconds,
        "sha256_seconds": sha256_seconds,
        "verify_ratio": verify_seconds / sha256_seconds,
        "incremental_seconds": incremental_seconds,
    }


def measure_export() -> dict:
    """Stream the API's CSV export of every event to its end; rows per second and this process's peak RSS."""
    from django.test.utils import override_settings
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(_administrator())
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        began = time.perf_counter()
        response = client.get("/api/v1/audit-events/?format=csv")
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        seconds = time.perf_counter() - began
    assert response.status_code == 200, response.status_code
    rows = lines - 1  # the header
    return {
        "export_rows": rows,
        "export_seconds": seconds,
        "export_rows_per_second": rows / seconds,
        "export_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _administrator():
    from django.contrib.auth.models import Group

    from wardflow.staff.models import Role, User

    user, created = User.objects.get_or_create(username="bench-admin")
    if created:
        user.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
    return User.objects.get(pk=user.pk)


def bench_audit(events: int = 1_000_000) -> dict:
    """The audit figures of issue 14 on a scratch database of `events` events (see the module's docstring)."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflow")
    parsed = urlparse(base)
    name = parsed.path.lstrip("/") + "_audit_bench"
    scratch = urlunparse(parsed._replace(path="/" + name))
    admin = urlunparse(parsed._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    _recreate(admin, name)
    try:
        with tempfile.TemporaryDirectory() as anchor_dir:
            env = {
                **os.environ,
                "DATABASE_URL": scratch,
                "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
                "AUDIT_CHECKPOINT_KEY_FILE": str(Path(anchor_dir) / "checkpoint-key.pem"),
                "AUDIT_CHECKPOINT_FILE": str(Path(anchor_dir) / "audit-checkpoints.jsonl"),
            }
            _run(env, "manage.py", "migrate", "--noinput", "-v", "0")
            _run(env, "manage.py", "create_checkpoint_key")
            measure = ("-m", "wardflow.audit.bench", "--measure")
            figures = json.loads(_run(env, *measure, "verify", "--events", str(events)))
            figures.update(json.loads(_run(env, *measure, "export")))
    finally:
        _drop(admin, name)
    return figures


def _run(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=REPOSITORY, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _recreate(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--measure", choices=["verify", "export"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure is None:
        print(json.dumps(bench_audit(options.events), indent=2))
        return 0
    import django

    django.setup()
    figures = measure_verify(options.events) if options.measure == "verify" else measure_export()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
