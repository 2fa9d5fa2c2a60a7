"""D2, D3 at scale: the walk re-hashes exactly what AuditEvent.canonical() covers, reads only the events after the
newest signed checkpoint, and a verification after the first still names an event tampered since."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from wardflow.audit import selectors
from wardflow.audit.models import AuditEvent, ChainVerification
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


def _walked_rows():
    return list(selectors.copy_rows(selectors._WALK_SQL, [0], selectors._WALK_TYPES))


def test_the_walk_hashes_the_same_bytes_as_the_event_itself(varied_events):
    rows = _walked_rows()
    assert [row[0] for row in rows] == [e.pk for e in varied_events]
    for row, event in zip(rows, varied_events, strict=True):
        assert selectors.canonical_row(row) == AuditEvent.objects.get(pk=event.pk).canonical()


def test_a_walk_stopped_early_leaves_the_transaction_usable(append, tamper):
    events = append(5)
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[0].pk])
    with transaction.atomic():
        assert verify().first_bad_event == events[0].pk
        assert AuditEvent.objects.count() == 5  # the rest of the COPY was drained, not cancelled


def test_a_rendering_that_does_not_hash_is_rehashed_from_the_event_before_calling_it_broken(append, monkeypatch):
    events = append(3)
    original = selectors.canonical_row
    monkeypatch.setattr(selectors, "canonical_row", lambda row: b"not it" if row[0] == events[1].pk else original(row))
    report = selectors.verify_chain()
    assert report.ok and report.events == 3 and report.head_id == events[-1].pk


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
    read = []
    original = selectors.copy_rows

    def recording(sql, params, types):
        for row in original(sql, params, types):
            read.append(row[0])
            yield row

    monkeypatch.setattr(selectors, "copy_rows", recording)
    assert verify().ok
    assert read == [e.pk for e in after]
    assert before[-1].pk not in read
