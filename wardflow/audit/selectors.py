from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import DatabaseError, connection, connections, transaction
from django.db.models import QuerySet

from wardflow.staff.models import WARD_SCOPED_ROLES, Role

from . import anchor
from .models import GENESIS_HASH, RECORD_BINDING, RECORD_BINDING_CHECK, AuditCheckpoint, AuditEvent, ChainVerification


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


# Each range of the walk in one statement: PostgreSQL hashes every event's stored record and compares the link to the
# event before it, and returns only the events that fail, the checkpointed ones (marks) and the range's last event;
# `n` numbers the range's events in append order. `record` is bound to the event's fields by RECORD_BINDING (D2).
_RANGE_SQL = """
SELECT id, n, hash, bad FROM (
    SELECT id, hash, row_number() OVER w AS n,
           prev_hash IS DISTINCT FROM lag(hash, 1, %(prev)s) OVER w
           OR encode(sha256(record), 'hex') IS DISTINCT FROM hash AS bad
    FROM audit_auditevent WHERE id > %(after)s AND id <= %(upto)s WINDOW w AS (ORDER BY id)
) walked
WHERE bad OR id = ANY(%(marks)s) ORDER BY id LIMIT %(limit)s
"""
# Where RECORD_BINDING does not hold, the first event of a range whose fields differ from its record.
_UNBOUND_SQL = (
    f"SELECT min(id) FROM audit_auditevent WHERE id > %s AND id <= %s AND NOT coalesce(({RECORD_BINDING_CHECK}), false)"  # noqa: S608 (constants only)
)
# A long walk is split into ranges checked side by side on connections of their own (the machine's cores); a short
# one, or one inside a transaction (whose rows other connections may not see), runs on this connection.
PARALLEL_FROM_EVENTS = 200_000
PARALLEL_RANGES = 2


@dataclass(frozen=True)
class _Range:
    after: int  # the event before the range (0 for none) and its hash: the first event must link to it
    prev: str
    upto: int  # the range's last event


def record_binding_holds() -> bool:
    """RECORD_BINDING is on the table, validated, and exactly the expression of this code: compared with the same
    constraint added to an empty temporary copy of the table, deparsed by the same server (a weakened or re-added
    NOT VALID binding, or none, does not hold). Where no temporary table can be created (a role without the right,
    a read-only standby) it cannot tell: the walk then compares every event's fields with its record, slower and as
    sure."""
    table = AuditEvent._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE audit_binding_expected (LIKE {table})")
            cursor.execute(
                f"ALTER TABLE audit_binding_expected ADD CONSTRAINT {RECORD_BINDING} CHECK ({RECORD_BINDING_CHECK})"
            )
            cursor.execute(
                "SELECT count(*) = 2 AND bool_and(convalidated) AND count(DISTINCT pg_get_constraintdef(oid)) = 1 "
                "FROM pg_constraint WHERE conname = %s "
                "AND conrelid IN (%s::regclass, 'audit_binding_expected'::regclass)",
                [RECORD_BINDING, table],
            )
            holds = cursor.fetchone()[0]
            cursor.execute("DROP TABLE audit_binding_expected")
    except DatabaseError:  # no TEMPORARY privilege (grant_runtime_role grants it), or a read-only standby
        return False
    return bool(holds)


def _walk(after_id, prev_hash, count, anchors, status, *, full) -> ChainReport:
    """Re-hash the events after `after_id` in append order; `anchors` (oldest first) are checked on the way."""
    pending = [a for a in anchors if a.sequence > after_id]
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM audit_auditevent WHERE id > %s", [after_id])
        first_id, head_id = cursor.fetchone()
    if head_id is None:
        return _end_of_walk(pending, count, status, full, after_id, prev_hash)
    unbound = None if record_binding_holds() else _first_unbound(after_id, head_id)
    ranges = _ranges(after_id, prev_hash, first_id, head_id)
    marks = _first_events_from([a.sequence for a in pending])
    results = _check_ranges(ranges, marks + ([unbound] if unbound else []))
    head_hash = prev_hash
    for part, rows in zip(ranges, results, strict=True):
        last_n = 0
        for event_id, n, event_hash, bad in rows:
            if pending and pending[0].sequence < event_id:  # its event is gone
                return _disagrees(pending[0], events=count + n - 1, full=full)
            if bad or event_id == unbound:
                return _broken(event_id, count + n - 1, status, full)
            last_n, head_hash = n, event_hash
            if disagreeing := _passes_checkpoints(pending, event_id, count + n, event_hash):
                return _disagrees(disagreeing, events=count + n, full=full)
        count += last_n
        after_id = part.upto
    return _end_of_walk(pending, count, status, full, after_id, head_hash)


def _end_of_walk(pending, count, status, full, head_id, head_hash) -> ChainReport:
    if pending:  # checkpointed events after the last one left: the newest were deleted, or the table emptied
        return _disagrees(pending[0], events=count, full=full)
    return ChainReport(ok=True, events=count, checkpoint=status, full=full, head_id=head_id, head_hash=head_hash)


def _first_unbound(after_id: int, upto: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_UNBOUND_SQL, [after_id, upto])
        return cursor.fetchone()[0]


def _ranges(after_id: int, prev_hash: str, first_id: int, head_id: int) -> list[_Range]:
    """The walk's ranges, each ending on an event and starting from the hash of the event before it."""
    parallel = not connection.in_atomic_block and head_id - first_id >= PARALLEL_FROM_EVENTS
    if not parallel:
        return [_Range(after_id, prev_hash, head_id)]
    step = (head_id - first_id) // PARALLEL_RANGES
    bounds = [first_id + step * k for k in range(1, PARALLEL_RANGES)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, e.hash FROM unnest(%s::bigint[]) b, LATERAL (SELECT id, hash FROM audit_auditevent "
            "WHERE id > %s AND id <= b ORDER BY id DESC LIMIT 1) e ORDER BY b",
            [bounds, after_id],
        )
        ends = cursor.fetchall()
    ranges, after, prev = [], after_id, prev_hash
    for end_id, end_hash in [*ends, (head_id, "")]:
        if end_id > after:
            ranges.append(_Range(after, prev, end_id))
            after, prev = end_id, end_hash
    return ranges


def _first_events_from(sequences: list[int]) -> list[int]:
    """For each checkpointed sequence, the first event at or after it: where the walk checks that checkpoint (or
    finds its event gone)."""
    if not sequences:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT min(id) FROM audit_auditevent WHERE id >= s) FROM unnest(%s::bigint[]) s", [sequences]
        )
        return [row[0] for row in cursor.fetchall() if row[0] is not None]


def _check_ranges(ranges: list[_Range], marks: list[int]) -> list[list[tuple]]:
    if len(ranges) == 1:
        return [_check_range(ranges[0], marks)]
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        return list(pool.map(lambda part: _on_own_connection(_check_range, part, marks), ranges))


def _on_own_connection(function, *args):
    try:
        return function(*args)
    finally:
        connections.close_all()  # this thread's own connections, opened by `function`


def _check_range(part: _Range, marks: list[int]) -> list[tuple]:
    """The range's events that fail, are marked, or end it, in append order, up to the first that fails."""
    marks = [m for m in marks if part.after < m <= part.upto] + [part.upto]
    with connection.cursor() as cursor:
        cursor.execute(
            _RANGE_SQL,
            {"prev": part.prev, "after": part.after, "upto": part.upto, "marks": marks, "limit": len(marks) + 1},
        )
        return cursor.fetchall()


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
