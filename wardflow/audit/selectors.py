from dataclasses import dataclass

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


def verify_chain(*, full: bool = False, chunk_size: int = 2000) -> ChainReport:
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
        return _walk(0, GENESIS_HASH, 0, anchors, status, full=full, chunk_size=chunk_size)
    anchored = AuditEvent.objects.filter(pk=newest.sequence).first()
    if AuditEvent.objects.filter(pk__lte=newest.sequence).count() != newest.events or (
        newest.sequence and (anchored is None or anchored.hash != newest.head_hash or not _hashes(anchored))
    ):
        return _disagrees(newest, events=0, full=full)
    return _walk(newest.sequence, newest.head_hash, newest.events, [], status, full=full, chunk_size=chunk_size)


def continue_chain(report: ChainReport, chunk_size: int = 2000) -> ChainReport:
    """Walk on from where an intact report ended, over the events appended since."""
    return _walk(report.head_id, report.head_hash, report.events, [], report.checkpoint, full=report.full,
                 chunk_size=chunk_size)  # fmt: skip


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


def _walk(after_id, prev_hash, count, anchors, status, *, full, chunk_size) -> ChainReport:
    """Re-hash the events after `after_id` in append order; `anchors` (oldest first) are checked on the way."""
    pending = [a for a in anchors if a.sequence > after_id]
    head_id = after_id
    for event in AuditEvent.objects.filter(pk__gt=after_id).order_by("id").iterator(chunk_size=chunk_size):
        if pending and pending[0].sequence < event.pk:  # its event is gone
            return _disagrees(pending[0], events=count, full=full)
        if event.prev_hash != prev_hash or not _hashes(event):
            return ChainReport(ok=False, events=count, first_bad_event=event.pk, checkpoint=status,
                               problem=f"Event {event.pk} does not hash or link to the one before it (D2).",
                               full=full)  # fmt: skip
        count += 1
        prev_hash, head_id = event.hash, event.pk
        while pending and pending[0].sequence == event.pk:
            if pending[0].events != count or pending[0].head_hash != event.hash:
                return _disagrees(pending[0], events=count, full=full)
            pending.pop(0)
    if pending:  # checkpointed events after the last one left: the newest were deleted, or the table emptied
        return _disagrees(pending[0], events=count, full=full)
    return ChainReport(ok=True, events=count, checkpoint=status, full=full, head_id=head_id, head_hash=prev_hash)


def last_verification() -> ChainVerification | None:
    return ChainVerification.objects.first()
