"""The alert engine's own due check: escalation of an alert left unacknowledged (A1, A2)."""

from datetime import datetime

from . import services
from .kinds import CheckKind
from .models import DueCheck


def escalate_if_unacknowledged(check: DueCheck, now: datetime) -> None:
    services.escalate_alert(alert_id=int(check.subject_id), now=now)


CHECK_HANDLERS = {
    CheckKind.ESCALATE: escalate_if_unacknowledged,
}
