"""D2, D3 at scale: each event keeps the bytes its hash covers, bound to its fields by the database; the walk hashes
those bytes, reads only the events after the newest signed checkpoint, and a verification after the first still names
an event tampered since, whether the binding is in place or was removed, weakened or re-added unchecked."""

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from wardflow.audit import selectors
from wardflow.audit.models import RECORD_BINDING, RECORD_BINDING_CHECK, AuditEvent, ChainVerification
from wardflow.audit.services import record_event, take_checkpoint, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied_events(nurse, make_patient, ward):
    """Events whose every field takes an awkward value: escapes, other scripts, nesting, no actor, year one."""
    patient_here = make_patient(ward, "A1")
    with transaction.atomic():
        return [
            record_event(actor=nurse, action="dose.given", patient=patient_here, rules=["S1", "T4"],
                         before={"z": 1, "a": [1.5, None, True], "é": {"b": "x"}}, after={"dose_mcg": "50.00"},
                         reason='Quote " backslash \\ tab \t newline \n bell \x07 DEL \x7f « » 漢字 😀'),
            record_event(actor=None, action="policy", at=datetime(1, 1, 1, tzinfo=UTC), before=None, after=None),
            record_event(actor=nurse, action="x", at=datetime(2026, 3, 29, 1, 30, 0, 7, tzinfo=UTC), after=[1, "2"],
                         reason="=HYPERLINK()"),
        ]  # fmt: skip


def test_each_event_keeps_the_bytes_its_hash_covers(varied_events):
    for event in varied_events:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert bytes(stored.record) == stored.canonical()
        assert hashlib.sha256(stored.record).hexdigest() == stored.hash
    assert selectors.verify_chain(full=True).ok


def test_a_field_is_not_edited_apart_from_its_record_even_with_the_trigger_off(append):
    (event,) = append(1)
    with pytest.raises(DatabaseError, match=RECORD_BINDING), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's open transaction holds deferred FK checks
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def _replace_binding(check: str, *, validate: bool) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT IF EXISTS {RECORD_BINDING}")
        if check:
            cursor.execute(f"ALTER TABLE audit_auditevent ADD CONSTRAINT {RECORD_BINDING} CHECK ({check})"
                           + ("" if validate else " NOT VALID"))  # fmt: skip


def test_the_binding_holds_while_it_is_in_place_validated_and_unchanged(append):
    append(2)
    assert selectors.record_binding_holds()
    _replace_binding(RECORD_BINDING_CHECK, validate=True)
    assert selectors.record_binding_holds()


@pytest.mark.parametrize(
    ("check", "validate"),
    [("", False), (RECORD_BINDING_CHECK, False), ("record IS NOT NULL", True)],
    ids=["removed", "re-added-not-valid", "weakened"],
)
def test_a_removed_unchecked_or_weakened_binding_does_not_hold(append, check, validate):
    append(2)
    _replace_binding(check, validate=validate)
    assert not selectors.record_binding_holds()


def test_an_edit_made_while_the_binding_was_off_is_named_after_it_is_back_unchecked(append, tamper):
    events = append(4)
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[2].pk])
    _replace_binding(RECORD_BINDING_CHECK, validate=False)  # covering the tracks: the edited row is not checked
    report = selectors.verify_chain(full=True)
    assert not report.ok and report.first_bad_event == events[2].pk and report.events == 2


def test_a_verification_inside_a_transaction_leaves_it_usable(append, tamper):
    events = append(5)
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[0].pk])
    with transaction.atomic():
        assert verify().first_bad_event == events[0].pk
        assert AuditEvent.objects.count() == 5


def test_incremental_verification_names_an_event_tampered_after_the_checkpoint(append, tamper):
    append(4)
    take_checkpoint()
    after = append(3)
    assert verify().ok
    tamper("UPDATE audit_auditevent SET after = '{\"n\": 99}' WHERE id = %s", [after[1].pk])
    second = verify()
    assert not second.ok and not second.full
    assert second.first_bad_event == after[1].pk and second.checkpoint_ok
    assert list(ChainVerification.objects.values_list("ok", flat=True)) == [False, True]


def test_events_before_the_checkpoint_are_not_read_again(append, monkeypatch):
    before = append(6)
    take_checkpoint()
    after = append(2)
    walked = []
    original = selectors._check_range
    monkeypatch.setattr(selectors, "_check_range", lambda part, marks: walked.append(part) or original(part, marks))
    assert verify().ok
    assert [(part.after, part.prev, part.upto) for part in walked] == [(before[-1].pk, before[-1].hash, after[-1].pk)]


@pytest.fixture
def long_walk(monkeypatch, allow_audit_flush, append):
    """A chain long enough to be walked in ranges on connections of their own (committed, so that they see it)."""
    monkeypatch.setattr(selectors, "PARALLEL_FROM_EVENTS", 10)
    events = append(12)
    take_checkpoint()
    return events + append(12)


@pytest.mark.django_db(transaction=True)
def test_a_long_walk_in_ranges_verifies_the_whole_chain_and_its_checkpoints(long_walk, monkeypatch):
    walked = []
    original = selectors._check_range
    monkeypatch.setattr(selectors, "_check_range", lambda part, marks: walked.append(part) or original(part, marks))
    report = selectors.verify_chain(full=True)
    assert report.ok and report.events == 24 and report.head_id == long_walk[-1].pk
    assert report.checkpoint.ok and len(walked) == 2
    assert walked[1].prev == AuditEvent.objects.get(pk=walked[0].upto).hash  # the second range links to the first


@pytest.mark.django_db(transaction=True)
def test_a_long_walk_in_ranges_names_the_first_broken_link_and_counts_the_events_before_it(long_walk):
    forged = AuditEvent.objects.get(pk=long_walk[17].pk)
    forged.reason = "forged"
    forged.seal()  # a consistent forgery of one event: its own hash is right, the next event's link is not
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute("UPDATE audit_auditevent SET reason = %s, record = %s, hash = %s WHERE id = %s",
                       [forged.reason, forged.record, forged.hash, forged.pk])  # fmt: skip
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")
    report = selectors.verify_chain(full=True)
    assert not report.ok and report.first_bad_event == long_walk[18].pk and report.events == 18
