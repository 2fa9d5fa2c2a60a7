"""A2: every step of an alert's life is audited, through this one helper."""

from datetime import datetime

from wardflow.audit.services import record_event

from ..models import Alert


def alert_snapshot(alert: Alert) -> dict:
    return {
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "target_role": alert.target_role,
        "message": alert.message,
    }


def record_alert_event(alert: Alert, action: str, *, at: datetime, actor=None, before: str | None = None,
                       after: dict | None = None, rules=("A2",)) -> None:  # fmt: skip
    record_event(
        actor=actor,
        action=action,
        at=at,
        patient=alert.patient,
        subject=alert,
        before=None if before is None else {"state": before},
        after=after or {"state": alert.state},
        rules=[alert.rule, *rules],
    )
