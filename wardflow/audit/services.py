"""Writing the audit trail (D1, D2). Every decision records its event through `record_event`, inside the
transaction of the change it records, so that either both are kept or neither is."""

import functools
import json
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from wardflow.compiled import CompiledInsert
from wardflow.errors import WorkflowConflict
from wardflow.policy import as_json, current_policy
from wardflow.policy import protocol_version as policy_version
from wardflow.protocol import DEFAULT_POLICY

from . import anchor
from .kinds import AuditAction
from .models import GENESIS_HASH, AuditCheckpoint, AuditEvent, ChainVerification
from .selectors import ChainReport, continue_chain, verify_chain

# Key of the transaction-scoped advisory lock that serialises appends, so that the chain never forks: each event
# reads the newest hash and inserts its own while no other append can do the same.
AUDIT_CHAIN_LOCK_KEY = 0x57415244  # "WARD"

SYSTEM_ROLE = "system"
# Every clinical act appends an event: its insert is built once.
_EVENT_INSERT = CompiledInsert(AuditEvent)


def _plain_json(value):
    """Decimals, dates and UUIDs as strings: the same value is hashed as is stored (and read back) as JSON."""
    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@functools.cache
def _head_query() -> str:
    """Compiled once: every append sends the same statements. It has no parameters (its limit is written into it)."""
    sql, _ = AuditEvent.objects.order_by("-id").values_list("hash", flat=True)[:1].query.sql_with_params()
    return sql


def _lock_chain_and_read_head() -> str | None:
    """Take the append lock, then read the newest hash: two statements sent in one round trip. They must stay two:
    under READ COMMITTED each statement reads the data committed when it starts, so the head is read only once the
    lock is held and sees every event committed by the appends it waited for (one statement would read the head
    as it was before the wait, and fork the chain). Sent without parameters (the lock's key is a constant, the head
    query has none): only a statement without parameters may hold two when the server binds them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock({AUDIT_CHAIN_LOCK_KEY}); {_head_query()}")
        cursor.nextset()
        row = cursor.fetchone()
    return row[0] if row else None


def record_event(
    *,
    actor,
    action: str,
    at: datetime | None = None,
    patient=None,
    subject=None,
    before: dict | None = None,
    after: dict | None = None,
    rules: Iterable[str] = (),
    reason: str = "",
    protocol_version: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. `actor` is a staff user, or None for the system itself (scheduler, CLI)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it records (D1)")
    previous = _lock_chain_and_read_head()
    now = timezone.now()
    event = AuditEvent(
        at=at or now,
        entered_at=now,
        actor=actor,
        actor_username=actor.username if actor else "",
        role=(actor.role if actor else None) or SYSTEM_ROLE,
        action=action,
        patient=patient,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        before=_plain_json(before),
        after=_plain_json(after),
        rules=sorted(set(rules)),
        protocol_version=protocol_version or policy_version(),
        reason=reason,
        prev_hash=previous or GENESIS_HASH,
    )
    event.seal()
    return _EVENT_INSERT.save([event])[0]


def record_policy_if_changed() -> bool:
    """Audit the policy in force when it differs from the last one recorded (or none was). Returns whether it did."""
    in_force = as_json(current_policy())
    with transaction.atomic():
        last = (
            AuditEvent.objects.filter(action=AuditAction.POLICY_IN_FORCE)
            .order_by("-id")
            .values_list("after", flat=True)
            .first()
        )
        if last == in_force or (last is None and in_force == as_json(DEFAULT_POLICY)):
            return False  # unchanged, or the protocol's own defaults (which PROTOCOL_VERSION already names)
        changed = sorted(k for k in in_force if last is None or last.get(k) != in_force[k])
        record_event(actor=None, action=AuditAction.POLICY_IN_FORCE, before=last, after=in_force,
                     reason="Protocol policy in force: " + ", ".join(changed))  # fmt: skip
    return True


def verify(*, full: bool = False) -> ChainVerification:
    """Verify the chain (D2, D3) and keep the outcome: the audit page shows it instead of recomputing it."""
    return _store(verify_chain(full=full))


def _store(report: ChainReport) -> ChainVerification:
    checkpoint = report.checkpoint
    return ChainVerification.objects.create(
        verified_at=timezone.now(),
        full=report.full,
        ok=report.ok,
        events=report.events,
        first_bad_event=report.first_bad_event,
        checkpoint_sequence=checkpoint.sequence if checkpoint else None,
        checkpoint_events=checkpoint.events if checkpoint else None,
        checkpoint_ok=checkpoint.ok if checkpoint else None,
        problem=report.problem,
    )


def take_checkpoint(*, by=None) -> AuditCheckpoint:
    """Sign the chain's current head and keep it in the file outside the database and in the table (D3).

    Only an intact chain is anchored, so that every checkpoint is a good starting point for the next incremental
    verification: the chain is verified first without holding the append lock, then the few events appended
    meanwhile are re-hashed under it, so that the head cannot move while it is signed."""
    report = verify_chain()
    if not report.ok:
        _store(report)
        raise WorkflowConflict(f"The audit chain does not verify, no checkpoint taken: {report.problem}", rule="D3")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        head = continue_chain(report)
        if not head.ok:
            _store(head)
            raise WorkflowConflict(f"The audit chain does not verify, no checkpoint taken: {head.problem}", rule="D3")
        checkpoint = AuditCheckpoint(
            taken_at=timezone.now(), taken_by=by, sequence=head.head_id, events=head.events, head_hash=head.head_hash
        )
        try:
            checkpoint.key_id, checkpoint.signature = anchor.sign(checkpoint.payload())
        except ImproperlyConfigured as exc:  # no signing key: say so to the administrator, not as a server error
            raise WorkflowConflict(f"D3: no checkpoint taken: {exc}", rule="D3") from exc
        checkpoint.save(force_insert=True)
        # The file line is written before the row commits: a failed write leaves no unanchored database copy.
        anchor.append({**checkpoint.payload(), "key_id": checkpoint.key_id, "signature": checkpoint.signature})
    return checkpoint
