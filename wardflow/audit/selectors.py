import hashlib
import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from wardflow.staff.models import WARD_SCOPED_ROLES, Role

from . import anchor
from .models import GENESIS_HASH, AuditCheckpoint, AuditEvent, ChainVerification


def visible_events(user) -> QuerySet[AuditEvent]:
    """Administrators see every event; neurologists only those of patients on their wards; anyone else nothing."""
    events = AuditEvent.objects.order_by("-id")
    role = getattr(user, "role", None)
    if role == Role.ADMINISTRATOR:
        return events
    if role in WARD_SCOPED_ROLES:
        return events.filter(patient__ward__in=user.ward_ids)
    return events.none()


@dataclass(frozen=True)
class CheckpointStatus:
    sequence: int | None
    events: int | None
    ok: bool


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_event: int | None = None
    checkpoint: CheckpointStatus | None = None
    problem: str = ""
    full: bool = False
    head_id: int = 0  # the newest event verified, and its hash: where a later walk continues
    head_hash: str = GENESIS_HASH


def verify_chain(*, full: bool = False) -> ChainReport:
    """D2 and D3. The chain must link and hash, and must agree with the signed checkpoints of the file outside the
    database: each checkpoint's event is there with its hash, and exactly as many events lead up to it. Checked
    against the newest checkpoint, only the events after it are re-hashed; `full` re-hashes the whole chain and
    checks every checkpoint on the way."""
    anchors = anchor.read_checkpoints(every_signature=full)
    if AuditCheckpoint.objects.count() > len(anchors):
        # The database copy has checkpoints the file lacks: the file was replaced, truncated or is not the one
        # configured, and checking the chain against it would prove nothing (D3).
        latest = AuditCheckpoint.objects.first()
        return ChainReport(
            ok=False,
            events=0,
            checkpoint=CheckpointStatus(latest.sequence, latest.events, ok=False),
            problem="The checkpoint file lacks checkpoints that the database holds (D3).",
            full=full,
        )
    unsigned = [a for a in anchors if not a.signed]
    if unsigned:
        return ChainReport(
            ok=False,
            events=0,
            checkpoint=CheckpointStatus(None, None, ok=False),
            problem=f"Checkpoint file line {unsigned[0].line_number} is not signed by the checkpoint key (D3).",
            full=full,
        )
    newest = anchors[-1] if anchors else None
    status = CheckpointStatus(newest.sequence, newest.events, ok=True) if newest else None
    if full or newest is None:
        return _walk(0, GENESIS_HASH, 0, anchors, status, full=full)
    anchored = AuditEvent.objects.filter(pk=newest.sequence).first()
    if AuditEvent.objects.filter(pk__lte=newest.sequence).count() != newest.events or (
        newest.sequence and (anchored is None or anchored.hash != newest.head_hash or not _hashes(anchored))
    ):
        return _disagrees(newest, events=0, full=full)
    return _walk(newest.sequence, newest.head_hash, newest.events, [], status, full=full)


def continue_chain(report: ChainReport) -> ChainReport:
    """Walk on from where an intact report ended, over the events appended since."""
    return _walk(report.head_id, report.head_hash, report.events, [], report.checkpoint, full=report.full)


def _hashes(event: AuditEvent) -> bool:
    return event.compute_hash() == event.hash


def _disagrees(checkpoint: anchor.FileCheckpoint, *, events: int, full: bool) -> ChainReport:
    return ChainReport(
        ok=False,
        events=events,
        checkpoint=CheckpointStatus(checkpoint.sequence, checkpoint.events, ok=False),
        problem=(
            f"The events up to {checkpoint.sequence} do not match its signed checkpoint ({checkpoint.events} events, "
            f"head {checkpoint.head_hash[:12]}): events were deleted, inserted or the chain rewritten (D3)."
        ),
        full=full,
    )


# AuditEvent.canonical() without a model instance per row: PostgreSQL renders the plain columns into the canonical
# JSON text (keys in sorted order, strings escaped as json.dumps escapes them with ensure_ascii=False, times in UTC
# with microseconds), and Python re-encodes only the two JSON columns, whose key order and spacing it defines. An event
# whose rendering does not hash is re-hashed from its model before it is called broken, so that a rendering
# difference can never be reported as tampering; a rendering that hashes is the hashed bytes themselves (D2).
_UTC_TIME = """'"' || to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00"'"""
_WALK_SQL = (
    "SELECT id, prev_hash, hash, "
    """'{"action":' || to_json(action)::text || ',"actor_id":' || coalesce(actor_id::text, 'null') """
    """|| ',"actor_username":' || to_json(actor_username)::text || ',"after":', after::text, """
    """',"at":' || """ + _UTC_TIME.format("at") + """ || ',"before":', before::text, """
    """',"entered_at":' || """ + _UTC_TIME.format("entered_at") + """ """
    """|| ',"patient_id":' || coalesce(patient_id::text, 'null') || ',"prev_hash":' || to_json(prev_hash)::text """
    """|| ',"protocol_version":' || to_json(protocol_version)::text || ',"reason":' || to_json(reason)::text """
    """|| ',"role":' || to_json(role)::text || ',"rules":' || array_to_json(rules)::text """
    """|| ',"subject_id":' || to_json(subject_id)::text || ',"subject_type":' || to_json(subject_type)::text """
    """|| '}' """
    "FROM audit_auditevent WHERE id > %s ORDER BY id"
)
_WALK_TYPES = ["int8"] + ["text"] * 7
# json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds this encoder at every call.
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_raw_decode = json.JSONDecoder().raw_decode  # PostgreSQL's JSON text has no whitespace around it to check


def canonical_row(row) -> bytes:
    """The canonical bytes of a `_WALK_SQL` row: AuditEvent.canonical() of that event."""
    _, _, _, head, after, middle, before, tail = row
    after = "null" if after is None else _encode(_raw_decode(after)[0])
    before = "null" if before is None else _encode(_raw_decode(before)[0])
    return (head + after + middle + before + tail).encode()


def copy_rows(sql: str, params: list, types: list[str]) -> Iterator[tuple]:
    """The rows of `sql` streamed with COPY: PostgreSQL produces the next rows while these are processed, and
    memory stays flat whatever their number. Stopping early drains the rest, so that the connection (and any
    transaction around it) stays usable: cancelling the COPY would abort that transaction."""
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
        copy.set_types(types)
        try:
            yield from copy.rows()
        finally:
            while copy.read():
                pass


def _walk(after_id, prev_hash, count, anchors, status, *, full) -> ChainReport:
    """Re-hash the events after `after_id` in append order; `anchors` (oldest first) are checked on the way."""
    pending = [a for a in anchors if a.sequence > after_id]
    head_id, suspect = after_id, True
    while suspect:
        suspect = None
        with closing(copy_rows(_WALK_SQL, [head_id], _WALK_TYPES)) as rows:
            for row in rows:
                if pending and pending[0].sequence < row[0]:  # its event is gone
                    return _disagrees(pending[0], events=count, full=full)
                if row[1] != prev_hash:
                    return _broken(row[0], count, status, full)
                if hashlib.sha256(canonical_row(row)).hexdigest() != row[2]:
                    suspect = row[0]  # re-hashed from its model once the COPY has ended
                    break
                count += 1
                prev_hash, head_id = row[2], row[0]
                if disagreeing := _passes_checkpoints(pending, head_id, count, prev_hash):
                    return _disagrees(disagreeing, events=count, full=full)
        if suspect:
            event = AuditEvent.objects.filter(pk=suspect).first()
            if event is None or not _hashes(event):
                return _broken(suspect, count, status, full)
            count += 1
            prev_hash, head_id = event.hash, suspect
            if disagreeing := _passes_checkpoints(pending, head_id, count, prev_hash):
                return _disagrees(disagreeing, events=count, full=full)
    if pending:  # checkpointed events after the last one left: the newest were deleted, or the table emptied
        return _disagrees(pending[0], events=count, full=full)
    return ChainReport(ok=True, events=count, checkpoint=status, full=full, head_id=head_id, head_hash=prev_hash)


def _passes_checkpoints(pending: list, event_id: int, count: int, event_hash: str):
    """The first checkpoint of `event_id` that disagrees with the walk so far, if any; those passed are dropped."""
    while pending and pending[0].sequence == event_id:
        if pending[0].events != count or pending[0].head_hash != event_hash:
            return pending[0]
        pending.pop(0)
    return None


def _broken(event_id: int, count: int, status, full: bool) -> ChainReport:
    return ChainReport(ok=False, events=count, first_bad_event=event_id, checkpoint=status,
                       problem=f"Event {event_id} does not hash or link to the one before it (D2).",
                       full=full)  # fmt: skip


def last_verification() -> ChainVerification | None:
    return ChainVerification.objects.first()
