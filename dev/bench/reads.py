"""Read-path scaling: each page and API list timed at each size, with its query count.

    python -m dev.bench.reads --sizes 10 500 [--samples 9]     (DATABASE_URL must name a bench database)

Each size gets its own database (DATABASE_URL's name + "_" + size), seeded by dev.bench.seed and vacuumed. Every
path is then read through Django's test client, alternating between the databases request by request (the machine's
load changes from minute to minute; alternated, both sizes see the same): two requests each to warm up, then
`samples` timed ones, of which the median is kept, and the queries of one more. Each database's audit chain is then
re-hashed in full (D2), so that the bench shows the chain still verifies after its load, and the databases are
dropped. Prints one JSON line.
"""

import argparse
import json
import os
import statistics
import sys
import time
from urllib.parse import urlparse, urlunparse

from dev.bench.seed import require_bench_database, seed

# (name, reader, path): {patient} is the first bench patient, on the readers' ward.
READ_PATHS = [
    ("ward board (/ward/)", "ward_nurse", "/ward/"),
    ("patient page (/patients/{patient}/)", "ward_nurse", "/patients/{patient}/"),
    ("pump registry (API list)", "ward_nurse", "/api/v1/pumps/"),
    ("alert inbox (/alerts/)", "ward_nurse", "/alerts/"),
    ("alert inbox (API list)", "ward_nurse", "/api/v1/alerts/"),
    ("audit list (/audit/)", "bench_admin", "/audit/"),
    ("audit list (API list)", "bench_admin", "/api/v1/audit-events/"),
]


def _admin(*statements: str) -> None:
    import psycopg

    admin = urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _recreate(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')


def _drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}"')


def _use(name: str) -> None:
    """Point the default connection at another bench database (the next query reconnects)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def _client(username: str, path: str):
    from django.test import Client
    from knox.models import AuthToken

    from wardflow.staff.models import User

    user = User.objects.get(username=username)
    if path.startswith("/api/"):
        _, key = AuthToken.objects.create(user=user, expiry=None)
        return Client(HTTP_AUTHORIZATION=f"Token {key}")
    client = Client()
    client.force_login(user)
    return client


def _read(client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")


def _timed(client, path: str) -> float:
    started = time.perf_counter()
    _read(client, path)
    return time.perf_counter() - started


def measure_paths(databases: dict[int, str], samples: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wardflow.patients.models import Patient

    figures = {size: {} for size in databases}
    for name, reader, template in READ_PATHS:
        clients, times = {}, {size: [] for size in databases}
        for size, database in databases.items():
            _use(database)
            first = Patient.objects.filter(mrn__startswith="BENCH-").order_by("pk").first()
            path = template.format(patient=first.pk)
            clients[size] = (_client(reader, path), path)
            for _ in range(2):
                _read(*clients[size])
        for _ in range(samples):
            for size, database in databases.items():
                _use(database)
                times[size].append(_timed(*clients[size]))
        for size, database in databases.items():
            _use(database)
            with CaptureQueriesContext(connection) as queries:
                _read(*clients[size])
            figures[size][name] = {"ms": statistics.median(times[size]) * 1000, "queries": len(queries)}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 500])
    parser.add_argument("--samples", type=int, default=9)
    args = parser.parse_args()
    require_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wardflow.audit.selectors import verify_chain

    call_command("collectstatic", interactive=False, verbosity=0)  # the production storage needs its manifest
    base = connection.settings_dict["NAME"]
    databases = {size: f"{base}_{size}" for size in args.sizes}
    result = {"seeding": {}, "chain": {}}
    for size, database in databases.items():
        print(f"seeding {size} patients ...", file=sys.stderr, flush=True)
        _use(database)
        _recreate(database)
        call_command("migrate", verbosity=0)
        result["seeding"][size] = seed(size, say=lambda line: print(line, file=sys.stderr, flush=True))
        # Fresh planner statistics, and no autovacuum of the bulk rows competing with the timed reads.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print("reading ...", file=sys.stderr, flush=True)
    result["sizes"] = measure_paths(databases, args.samples)
    for size, database in databases.items():
        _use(database)
        report = verify_chain(full=True)
        result["chain"][size] = {"ok": report.ok, "events": report.events, "problem": report.problem}
    _use(base)
    for database in databases.values():
        _drop(database)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
