"""Alert e-mail: one row per recipient and reason, sent by a worker after commit and retried until sent; the inbox
keeps the alert whatever happens to the mail."""

import logging
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from wardflow.staff.models import Role, User

from ..kinds import AuditAction, EmailReason
from ..models import Alert, AlertEmail
from .dispatch import retry_delay
from .events import record_alert_event

log = logging.getLogger("alerts.services")

SEND_EMAILS_TASK = "alerts.tasks.send_alert_emails"
MAX_EMAIL_ATTEMPTS = 10


def ward_staff(ward_id: int, role: Role):
    return User.objects.filter(wards=ward_id, groups__name=role, is_active=True).exclude(email="")


def queue_emails(alert: Alert, recipients, reason: EmailReason, now: datetime) -> None:
    if not settings.ALERT_EMAIL_ENABLED:
        return
    AlertEmail.objects.bulk_create(
        [AlertEmail(alert=alert, recipient=user, reason=reason, next_attempt_at=now) for user in recipients],
        ignore_conflicts=True,
    )
    # Sent after commit by a worker; if the broker is down, the beat sweep sends the rows later (they are the truth).
    transaction.on_commit(_send_emails_soon)


def _send_emails_soon() -> None:
    try:
        current_app.send_task(SEND_EMAILS_TASK)
    except Exception:  # the broker is away: the periodic sweep will find the pending rows
        log.warning("could not queue the alert e-mail task; the next sweep will send them", exc_info=True)


def send_pending_emails(now: datetime | None = None, batch_size: int = 50) -> int:
    """Send the alert e-mails that are due; a failing mail server leaves them pending for a later retry."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        emails = list(
            AlertEmail.objects.select_for_update(skip_locked=True)
            .select_related("alert", "alert__patient", "alert__ward", "recipient")
            .filter(state=AlertEmail.State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:batch_size]
        )
        for email in emails:
            sent += _send_one(email, now)
    return sent


def _send_one(email: AlertEmail, now: datetime) -> int:
    alert = email.alert
    email.attempts += 1
    try:
        send_mail(
            subject=f"[WardFlow {alert.severity}] {alert.ward.code}: {alert.kind} ({alert.rule})",
            message=f"{alert.message}\n\nPatient MRN {alert.patient.mrn}, ward {alert.ward.code}.",
            from_email=None,
            recipient_list=[email.recipient.email],
        )
    except Exception as exc:
        log.warning("alert e-mail %s failed (attempt %s): %s", email.pk, email.attempts, exc)
        email.last_error = f"{exc.__class__.__name__}: {exc}"
        if email.attempts >= MAX_EMAIL_ATTEMPTS:
            email.state = AlertEmail.State.FAILED
        email.next_attempt_at = now + retry_delay(email.attempts)
        email.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
        return 0
    email.state = AlertEmail.State.SENT
    email.sent_at = now
    email.save(update_fields=["attempts", "state", "sent_at"])
    record_alert_event(alert, AuditAction.DELIVERED, at=now,
                       after={"channel": "email", "to": email.recipient.username, "reason": email.reason})  # fmt: skip
    return 1
