"""Times (timestamptz) are read as Django reads them, in UTC on a session in UTC, by psycopg's own loader: Django's
parses each time again in Python."""

from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from config.postgresql.base import UtcTimeLoader

pytestmark = pytest.mark.django_db

TIMES = [
    "2026-03-02 09:00:00+00",
    "2026-03-02 09:00:00.000001+02",
    "2026-10-25 01:30:00.5-05:30",
    "0001-01-01 00:00+00",
    "9999-12-31 23:59:59.999999+00",
    None,
]


def _read(cursor) -> list:
    cursor.execute("SELECT " + ", ".join(["%s::timestamptz"] * len(TIMES)), TIMES)
    return list(cursor.fetchone())


def test_times_are_read_as_djangos_own_loader_reads_them_in_utc():
    with connection.cursor() as ours, connection.cursor() as theirs:
        register_tzloader(UTC, theirs.cursor)  # Django's, as it registers it on a cursor
        read, expected = _read(ours), _read(theirs)
    assert read == expected
    assert [(value.tzinfo, value.utcoffset()) for value in read if value] == [(UTC, UTC.utcoffset(None))] * 5
    assert read[1] == datetime(2026, 3, 2, 7, 0, 0, 1, tzinfo=UTC)


def test_the_session_reads_its_times_with_the_utc_loader_and_django_adds_none_per_cursor():
    with connection.cursor() as cursor:
        assert connection.timezone_name == "UTC"
        timestamptz = psycopg.adapters.types["timestamptz"].oid
        assert cursor.cursor.adapters.get_loader(timestamptz, psycopg.pq.Format.TEXT) is UtcTimeLoader
