from dataclasses import dataclass

from django.db.models import QuerySet

from wardflow.staff.models import WARD_SCOPED_ROLES, Role

from .models import GENESIS_HASH, AuditEvent


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
class ChainReport:
    ok: bool
    events: int
    first_bad_event: int | None = None


def verify_chain(chunk_size: int = 2000) -> ChainReport:
    """Walk the whole chain in append order: each event must hash to its stored hash and link to its predecessor."""
    expected_prev = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if event.prev_hash != expected_prev or event.compute_hash() != event.hash:
            return ChainReport(ok=False, events=count, first_bad_event=event.pk)
        expected_prev = event.hash
        count += 1
    return ChainReport(ok=True, events=count)
