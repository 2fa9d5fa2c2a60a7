from django.conf import settings
from django.db import models
from django.db.models import Q

from wardflow.protocol import Severity
from wardflow.staff.models import Role


def subject_key(subject) -> tuple[str, str]:
    """How a due check or an alert names the record it is about (any model, by label and primary key)."""
    return (subject._meta.label_lower, str(subject.pk)) if subject is not None else ("", "")


class DueCheck(models.Model):
    """A future check, durable in PostgreSQL (never a Celery ETA task): at `due_at` the dispatcher claims the row,
    asks the feature that owns `kind` what to do, and closes it, in one transaction."""

    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        CANCELLED = "cancelled"
        FAILED = "failed"

    kind = models.CharField(max_length=60)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.CASCADE)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Dispatch cost grows with the due rows only: the index holds pending rows alone, ordered by due time.
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="duecheck_pending_due_at"),
            models.Index(
                fields=["subject_type", "subject_id"], condition=Q(state="pending"), name="duecheck_pending_subject"
            ),
        ]

    def __str__(self):
        return f"{self.kind} due {self.due_at:%Y-%m-%d %H:%M} ({self.state})"


class AlertQuerySet(models.QuerySet):
    def unresolved(self):
        """Still in the ward's inbox: open, acknowledged or escalated (A1, A2)."""
        return self.exclude(state=Alert.State.RESOLVED)


class Alert(models.Model):
    class State(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        ESCALATED = "escalated"
        RESOLVED = "resolved"

    kind = models.CharField(max_length=60)
    severity = models.CharField(max_length=10, choices=[(s.value, s.value.capitalize()) for s in Severity])
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="alerts")
    ward = models.ForeignKey("staff.Ward", on_delete=models.PROTECT, related_name="alerts")
    rule = models.CharField(max_length=10)
    message = models.TextField()
    raised_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the thing alerted about fell due.")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    target_role = models.CharField(max_length=20, choices=Role.choices)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    # The due-check that raised it: a retried or redelivered check finds its alert instead of raising another.
    source_check = models.OneToOneField(DueCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["ward", "state"]), models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self):
        return f"{self.severity} {self.kind} ({self.state})"


class AlertEmail(models.Model):
    """One e-mail of an alert to one member of staff; the inbox keeps the alert whatever happens to the mail."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="emails")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20)  # raised / escalated
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="alertemail_pending_next"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["alert", "recipient", "reason"], name="alertemail_once_per_reason"),
        ]

    def __str__(self):
        return f"{self.alert_id} -> {self.recipient_id} ({self.state})"
