"""The database connection keeps the plan of a statement it sends again and again (prepared statements, server-side
binding), unless a pooler that cannot carry them asks for them off (DB_PREPARED_STATEMENTS=0)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from wardflow.staff.models import Ward

ROOT = Path(__file__).resolve().parents[3]


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_is_kept_prepared_by_the_connection_from_its_sixth_sending():
    def prepared() -> bool:
        return any('"staff_ward"."code" = $1' in statement for statement in _prepared_statements())

    for _ in range(5):
        list(Ward.objects.filter(code="PREPARED"))
    assert not prepared()
    list(Ward.objects.filter(code="PREPARED"))
    assert prepared()


def test_prepared_statements_can_be_switched_off_for_a_pooler():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(sorted(settings.DATABASES['default'].get('OPTIONS', {})))"
    )

    def options(**env) -> str:
        inherited = {k: v for k, v in os.environ.items() if k != "DB_PREPARED_STATEMENTS"}
        env = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **env}
        run = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert options() == "['prepare_threshold', 'server_side_binding']"
    assert options(DB_PREPARED_STATEMENTS="0") == "[]"
