import io

import pytest
from django.core.management import CommandError, call_command

from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role, User

pytestmark = pytest.mark.django_db


def add_staff(*args, password: str):
    out = io.StringIO()
    stdin = io.StringIO(password + "\n")
    import sys

    original = sys.stdin
    sys.stdin = stdin
    try:
        call_command("add_staff", *args, stdout=out)
    finally:
        sys.stdin = original
    return out.getvalue()


def test_add_staff_reads_password_from_stdin_and_assigns_role_and_wards(ward, other_ward):
    output = add_staff("nkim", "--role", "nurse", "--ward", "N3", "--ward", "R1", password="Tablet-ward-2026!")
    user = User.objects.get(username="nkim")
    assert user.check_password("Tablet-ward-2026!")
    assert user.role == Role.NURSE
    assert sorted(w.code for w in user.wards.all()) == ["N3", "R1"]
    assert "Added nkim as nurse" in output
    event = AuditEvent.objects.get(action="staff.added")
    assert event.role == "system" and event.after["wards"] == ["N3", "R1"]


@pytest.mark.parametrize("weak", ["password", "12345678901", "short"])
def test_weak_password_is_refused_and_no_account_made(ward, weak):
    with pytest.raises(CommandError, match="password"):
        add_staff("weak", "--role", "nurse", "--ward", "N3", password=weak)
    assert not User.objects.filter(username="weak").exists()
    assert not AuditEvent.objects.exists()


def test_unknown_ward_is_refused_naming_it(ward):
    with pytest.raises(CommandError, match="NOPE"):
        add_staff("dr", "--role", "neurologist", "--ward", "NOPE", password="Tablet-ward-2026!")
    assert not User.objects.filter(username="dr").exists()


def test_unknown_role_is_refused(ward):
    with pytest.raises(CommandError):
        add_staff("x", "--role", "surgeon", password="Tablet-ward-2026!")


def test_existing_username_is_refused(ward, nurse):
    with pytest.raises(CommandError, match="already exists"):
        add_staff("nina", "--role", "nurse", password="Tablet-ward-2026!")
