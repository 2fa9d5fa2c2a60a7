"""D3: every way of tampering with the audit table is detected, by the chain and the signed checkpoints kept in the
file outside the database; the newest events and an emptied table included."""

import pytest
from django.db import transaction

from wardflow.audit import selectors
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain
from wardflow.audit.services import record_event, take_checkpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchored(append):
    """Five events under a signed checkpoint, then two more not yet anchored."""
    checkpointed = append(5)
    take_checkpoint()
    return checkpointed, append(2)


def test_an_intact_chain_verifies_against_its_checkpoint(anchored):
    report = verify_chain()
    assert report.ok and report.events == 7
    assert (report.checkpoint.sequence, report.checkpoint.events, report.checkpoint.ok) == (anchored[0][-1].pk, 5, True)
    assert report.problem == ""


def test_an_edited_event_after_the_checkpoint_is_named(anchored, tamper):
    _, after = anchored
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [after[0].pk])
    report = verify_chain()
    assert not report.ok and report.first_bad_event == after[0].pk
    assert report.checkpoint.ok  # the anchored part is not what broke


def test_an_edited_event_before_the_checkpoint_is_named_by_full_verification(anchored, tamper):
    before, _ = anchored
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [before[1].pk])
    report = verify_chain(full=True)
    assert not report.ok and report.first_bad_event == before[1].pk
    assert report.full


def test_a_chain_rewritten_and_rehashed_disagrees_with_the_checkpoint(anchored, tamper):
    previous = "0" * 64
    for event in AuditEvent.objects.order_by("id"):
        event.reason, event.prev_hash = "rewritten", previous
        event.seal()
        previous = event.hash
        tamper("UPDATE audit_auditevent SET reason = %s, prev_hash = %s, record = %s, hash = %s WHERE id = %s",
               [event.reason, event.prev_hash, event.record, event.hash, event.pk])  # fmt: skip
    for full in (False, True):
        report = verify_chain(full=full)
        assert not report.ok and report.first_bad_event is None
        assert report.checkpoint.ok is False and "do not match its signed checkpoint" in report.problem


def test_a_forged_event_inserted_before_the_checkpoint_is_detected(append):
    (first,) = append(1)
    with pytest.raises(RuntimeError), transaction.atomic():  # a rolled-back append leaves a gap in the ids
        record_event(actor=None, action="test.event")
        raise RuntimeError
    (last,) = append(1)
    take_checkpoint()
    forged = AuditEvent.objects.get(pk=first.pk)
    forged.pk, forged.reason, forged.prev_hash = last.pk - 1, "forged", first.hash
    forged.seal()
    forged.save(force_insert=True)  # INSERT is allowed: no trigger to switch off
    report = verify_chain()
    assert not report.ok and report.checkpoint.ok is False
    assert verify_chain(full=True).first_bad_event == forged.pk + 1


def test_a_forged_event_appended_after_the_checkpoint_is_named(anchored):
    forged = AuditEvent.objects.order_by("id").first()
    forged.pk, forged.reason = None, "forged"
    forged.seal()
    forged.save(force_insert=True)
    report = verify_chain()
    assert not report.ok and report.first_bad_event == forged.pk


def test_an_event_deleted_before_the_checkpoint_is_detected(anchored, tamper):
    before, _ = anchored
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [before[2].pk])
    report = verify_chain()
    assert not report.ok and report.checkpoint.ok is False
    assert verify_chain(full=True).first_bad_event == before[3].pk


def test_the_newest_events_deleted_are_detected(anchored, tamper):
    before, _ = anchored
    tamper("DELETE FROM audit_auditevent WHERE id >= %s", [before[3].pk])
    for full in (False, True):
        report = verify_chain(full=full)
        assert not report.ok and report.checkpoint.ok is False
        assert report.checkpoint.sequence == before[-1].pk


def test_an_emptied_table_is_detected(anchored, tamper):
    tamper("DELETE FROM audit_auditevent")
    for full in (False, True):
        report = verify_chain(full=full)
        assert not report.ok and report.events == 0
        assert report.checkpoint.ok is False


def test_a_forged_line_in_the_checkpoint_file_is_detected(anchored, checkpoint_anchor):
    line = checkpoint_anchor.read_text().replace('"events":5', '"events":4')
    checkpoint_anchor.write_text(line)
    report = verify_chain()
    assert not report.ok and report.checkpoint.ok is False
    assert "not signed by the checkpoint key" in report.problem


def test_a_lost_checkpoint_file_is_detected(anchored, checkpoint_anchor):
    checkpoint_anchor.unlink()
    report = verify_chain()
    assert not report.ok and "lacks checkpoints" in report.problem


def test_only_the_events_after_the_checkpoint_are_rehashed(anchored, monkeypatch):
    walked = []
    original = selectors._check_range
    monkeypatch.setattr(selectors, "_check_range", lambda part, marks: walked.append(part) or original(part, marks))
    before, after = anchored
    assert verify_chain().ok
    assert [(part.after, part.upto) for part in walked] == [(before[-1].pk, after[-1].pk)]
    walked.clear()
    assert verify_chain(full=True).ok
    assert [(part.after, part.upto) for part in walked] == [(0, after[-1].pk)]
