"""The due-check and alert engine. Features decide *what* is due and *when* (their own rules); these services keep
the rows, claim them when due, raise, escalate, deliver and close alerts, and audit each alert's life (A2)."""

from .dispatch import MAX_CHECK_ATTEMPTS, DispatchReport, dispatch_due_checks, register_check_handlers
from .emails import send_pending_emails
from .inbox import acknowledge_alert, acknowledge_alerts, escalate_alert, raise_alert, resolve_alerts
from .scheduling import cancel_checks, cancelling, due_check, schedule, schedule_check, schedule_checks

__all__ = [
    "MAX_CHECK_ATTEMPTS",
    "DispatchReport",
    "acknowledge_alert",
    "acknowledge_alerts",
    "cancel_checks",
    "cancelling",
    "dispatch_due_checks",
    "due_check",
    "escalate_alert",
    "raise_alert",
    "register_check_handlers",
    "resolve_alerts",
    "schedule",
    "schedule_check",
    "schedule_checks",
    "send_pending_emails",
]
