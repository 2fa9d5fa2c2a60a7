"""The alert engine's own kinds. Features keep theirs (check kinds, alert kinds) in their own kinds.py."""

from enum import StrEnum


class CheckKind(StrEnum):
    ESCALATE = "alert.escalate"

    @property
    def label(self) -> str:
        return "Escalation"


class AuditAction(StrEnum):
    """A2: every step of an alert's life is audited."""

    RAISED = "alert.raised"
    DELIVERED = "alert.delivered"
    ESCALATED = "alert.escalated"
    ACKNOWLEDGED = "alert.acknowledged"
    RESOLVED = "alert.resolved"


class EmailReason(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"
