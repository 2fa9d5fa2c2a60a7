from datetime import datetime, timedelta

from wardflow.audit.models import AuditEvent
from wardflow.compiled import CompiledRead
from wardflow.protocol import Policy

from .kinds import AuditAction
from .models import Role, User

# Every signature sends it (D5): compiled once; -1 the signer.
_LAST_SIGNING_LOCK = CompiledRead(
    lambda user: (
        AuditEvent.objects.filter(actor=user, action=AuditAction.SIGNING_LOCKED).order_by("-at").values_list("at")[:1]
    ),
    placeholders=(-1,),
)


def _last_signing_lock(user) -> datetime | None:
    found = _LAST_SIGNING_LOCK.rows(user.pk)
    return found[0][0] if found else None


def signing_locked_until(user, now: datetime, policy: Policy) -> datetime | None:
    """D5: the end of the signer's signing lock, or None when they may sign. The audit trail is the record."""
    locked_at = _last_signing_lock(user)
    if locked_at is None:
        return None
    until = locked_at + timedelta(minutes=policy.signature_lock_minutes)
    return until if now < until else None


def recent_signature_failures(user, now: datetime, policy: Policy) -> int:
    """D5: failed signatures within the window; failures before the last lock have been answered by it."""
    since = now - timedelta(minutes=policy.signature_failure_window_minutes)
    if (locked_at := _last_signing_lock(user)) is not None and locked_at > since:
        since = locked_at
    return AuditEvent.objects.filter(actor=user, action=AuditAction.SIGNATURE_FAILED, at__gt=since).count()


def administrator_emails() -> list[str]:
    return list(
        User.objects.filter(groups__name=Role.ADMINISTRATOR, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
