"""A persistent connection is checked before each request reuses it (CONN_HEALTH_CHECKS): an idle connection the
server has not written to is reused without a round trip; one the server ended is replaced before a query fails on
it; one with something to read is checked with the round trip."""

import select

import pytest
from django.db import connection, transaction
from django.db.backends.postgresql import base


@pytest.fixture(autouse=True)
def idle_connection(allow_audit_flush):
    """Outside any transaction, as a connection is between two requests."""


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _other_connection():
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    return other


def _wait_until_readable(seconds: float = 10) -> None:
    readable, _, _ = select.select([connection.connection.fileno()], [], [], seconds)
    assert readable, "the server wrote nothing to the connection"


def _round_trips(monkeypatch) -> list[bool]:
    """Django's own check (SELECT 1), counted."""
    answers, django_check = [], base.DatabaseWrapper.is_usable

    def counted(self):
        answers.append(django_check(self))
        return answers[-1]

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", counted)
    return answers


def _health_check_before_a_request() -> None:
    connection.health_check_done = False  # as request_started leaves it (close_old_connections)
    connection.close_if_health_check_failed()


def test_an_idle_connection_the_server_has_not_written_to_is_reused_without_a_round_trip(monkeypatch):
    pid = _backend_pid()
    round_trips = _round_trips(monkeypatch)
    _health_check_before_a_request()
    assert round_trips == []
    assert _backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_a_query_uses_it():
    pid = _backend_pid()
    other = _other_connection()
    try:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    _wait_until_readable()
    _health_check_before_a_request()
    assert _backend_pid() != pid  # a new connection, and no error on the way


def test_a_connection_with_a_notification_waiting_is_checked_with_a_round_trip_and_kept(monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("LISTEN wardflow_health_check")
    try:
        pid = _backend_pid()
        other = _other_connection()
        try:
            other.execute("NOTIFY wardflow_health_check")
        finally:
            other.close()
        _wait_until_readable()
        round_trips = _round_trips(monkeypatch)
        _health_check_before_a_request()
        assert round_trips == [True]
        assert _backend_pid() == pid
    finally:
        with connection.cursor() as cursor:
            cursor.execute("UNLISTEN *")


def test_a_connection_inside_a_transaction_is_checked_with_a_round_trip(monkeypatch):
    round_trips = _round_trips(monkeypatch)
    with transaction.atomic():
        _backend_pid()  # the transaction begun on the server
        assert connection.is_usable()
    assert round_trips == [True]
