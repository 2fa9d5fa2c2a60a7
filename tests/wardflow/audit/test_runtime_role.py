"""D3: the application's runtime database role may append audit events but can neither change nor remove them, nor
switch off the trigger that protects them."""

import contextlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from wardflow.audit import selectors
from wardflow.audit.models import AuditEvent
from wardflow.audit.services import record_event
from wardflow.staff.models import Ward

pytestmark = pytest.mark.django_db

ROLE = "wardflow_test_runtime"


@pytest.fixture
def runtime_role(append):
    append(1)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")  # rolled back with the test's transaction
        cursor.execute("SELECT current_database()")
        database = cursor.fetchone()[0]
        cursor.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')  # as the README's production setup does
        cursor.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {ROLE}')
    call_command("grant_runtime_role", ROLE, stdout=io.StringIO())
    return ROLE


@contextlib.contextmanager
def acting_as(role):
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_the_runtime_role_appends_audit_events(runtime_role):
    with acting_as(runtime_role), transaction.atomic():
        event = record_event(actor=None, action="test.event", reason="as the runtime role")
    assert AuditEvent.objects.get(pk=event.pk).reason == "as the runtime role"


def test_the_runtime_role_changes_the_application_tables(runtime_role, ward):
    with acting_as(runtime_role), transaction.atomic():
        Ward.objects.filter(pk=ward.pk).update(name="Neuro 3 East")
    assert Ward.objects.get(pk=ward.pk).name == "Neuro 3 East"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET reason = 'edited'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent CASCADE",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "ALTER TABLE audit_auditevent DROP CONSTRAINT audit_event_fields_are_its_record",
        "UPDATE audit_auditcheckpoint SET events = 0",
    ],
)
def test_the_runtime_role_may_not_change_remove_or_unprotect_audit_events(runtime_role, statement):
    with (
        pytest.raises(DatabaseError, match=r"permission denied|must be owner"),
        acting_as(runtime_role),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(reason="").count() == 1


def test_a_superuser_is_refused_as_the_runtime_role(append):
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_runtime_role", connection.settings_dict["USER"] or "postgres")


def test_the_runtime_role_relies_on_the_binding_of_fields_to_records_when_verifying(runtime_role):
    with acting_as(runtime_role), transaction.atomic():
        assert selectors.record_binding_holds()
        assert selectors.verify_chain().ok


def test_a_role_without_temporary_tables_verifies_without_relying_on_the_binding(runtime_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        cursor.execute(f'REVOKE TEMPORARY ON DATABASE "{cursor.fetchone()[0]}" FROM {ROLE}')
    with acting_as(runtime_role), transaction.atomic():
        assert not selectors.record_binding_holds()
        assert selectors.verify_chain().ok
