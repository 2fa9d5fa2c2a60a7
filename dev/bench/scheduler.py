"""Dispatch cost against table size: 100,000 pending checks of which 1,000 are due.

    python -m dev.bench.scheduler [--json]      (`make bench-scheduler`; also a row of `make bench`)

Builds a scratch database beside the configured one, loads the rows, then times one dispatch cycle and the bare
claim query on the same table, and prints both with their ratio and the claim query's plan (with --json, one line
of figures instead).
"""

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse, urlunparse

TOTAL, DUE = 100_000, 1_000
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DATABASE = "wardflow_bench_scheduler"


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)


def _recreate_database(url: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def _drop(url: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def measure() -> dict:
    url = urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{DATABASE}"))
    _recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from alerts import services
    from alerts.models import DueCheck

    call_command("migrate", verbosity=0)

    def _noop(check, now):
        """Benchmarks the engine itself: the feature's evaluation is left out."""

    services.register_check_handlers({"bench.noop": _noop})

    print(f"loading {TOTAL:,} pending checks, {DUE:,} of them due ...", file=sys.stderr, flush=True)
    rows = [
        DueCheck(kind="bench.noop", due_at=NOW - timedelta(minutes=1) if i < DUE else NOW + timedelta(days=1 + i % 90))
        for i in range(TOTAL)
    ]
    DueCheck.objects.bulk_create(rows, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE alerts_duecheck")

    claim_sql = (
        "SELECT id FROM alerts_duecheck WHERE state = 'pending' AND due_at <= %s "
        "ORDER BY due_at LIMIT 200 FOR UPDATE SKIP LOCKED"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + claim_sql, [NOW])
        plan = [line for (line,) in cursor.fetchall()]
        started = time.perf_counter()
        cursor.execute(claim_sql, [NOW])
        cursor.fetchall()
        claim_seconds = time.perf_counter() - started
        transaction.set_rollback(True)

    started = time.perf_counter()
    report = services.dispatch_due_checks(now=NOW)
    cycle_seconds = time.perf_counter() - started
    assert report.done == DUE, report

    started = time.perf_counter()
    services.dispatch_due_checks(now=NOW)
    empty_cycle_seconds = time.perf_counter() - started
    connection.close()
    _drop(url)
    return {
        "plan": plan,
        "claim_ms": claim_seconds * 1000,
        "cycle_ms": cycle_seconds * 1000,
        "closed": report.done,
        "per_due_ms": cycle_seconds / DUE * 1000,
        "empty_cycle_ms": empty_cycle_seconds * 1000,
    }


def main() -> int:
    figures = measure()
    if "--json" in sys.argv[1:]:
        print(json.dumps(figures))
        return 0
    print("claim query plan:\n  " + "\n  ".join(figures["plan"]))
    print(f"bare claim query (200 of {DUE:,} due among {TOTAL:,}): {figures['claim_ms']:.2f} ms")
    print(f"one dispatch cycle ({figures['closed']:,} checks closed):      {figures['cycle_ms']:.1f} ms")
    print(f"ratio cycle / claim query:                       {figures['cycle_ms'] / figures['claim_ms']:.0f}x")
    print(f"per due check:                                   {figures['per_due_ms']:.3f} ms")
    print(f"cycle with nothing due ({TOTAL - DUE:,} pending later):  {figures['empty_cycle_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
