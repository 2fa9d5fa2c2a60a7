"""Dispatch cost against table size: 100,000 pending checks of which 1,000 are due.

    make bench-scheduler           (not part of `make test`)

Builds a scratch database beside the configured one, loads the rows, then times one dispatch cycle and the bare
claim query on the same table, and prints both with their ratio and the claim query's plan.
"""

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse, urlunparse

TOTAL, DUE = 100_000, 1_000
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _scratch_database_url() -> str:
    url = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(url._replace(path="/wardflow_bench"))


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wardflow_bench")
        conn.execute("CREATE DATABASE wardflow_bench")


def main() -> int:
    url = _scratch_database_url()
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

    print(f"loading {TOTAL:,} pending checks, {DUE:,} of them due ...", flush=True)
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

    print("claim query plan:\n  " + "\n  ".join(plan))
    print(f"bare claim query (200 of {DUE:,} due among {TOTAL:,}): {claim_seconds * 1000:.2f} ms")
    print(f"one dispatch cycle ({report.done:,} checks closed):      {cycle_seconds * 1000:.1f} ms")
    print(f"ratio cycle / claim query:                       {cycle_seconds / claim_seconds:.0f}x")
    print(f"per due check:                                   {cycle_seconds / DUE * 1000:.3f} ms")
    print(f"cycle with nothing due ({TOTAL - DUE:,} pending later):  {empty_cycle_seconds * 1000:.2f} ms")
    connection.close()
    _drop(url)
    return 0


def _drop(url: str) -> None:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wardflow_bench")


if __name__ == "__main__":
    sys.exit(main())
