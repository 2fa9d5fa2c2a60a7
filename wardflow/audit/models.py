import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

GENESIS_HASH = "0" * 64

# D2: the database refuses an event whose fields differ from its record (the bytes its hash covers), so that a field
# cannot be edited without editing what is hashed. Verification relies on it only while it is in place, validated and
# exactly this; otherwise it compares every event's fields with its record. Created by migration 0005.
RECORD_BINDING = "audit_event_fields_are_its_record"
RECORD_BINDING_CHECK = """convert_from(record, 'UTF8')::jsonb = jsonb_build_object(
    'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00',
    'entered_at', to_char(entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00',
    'actor_id', actor_id, 'actor_username', actor_username, 'role', role, 'action', action,
    'patient_id', patient_id, 'subject_type', subject_type, 'subject_id', subject_id,
    'before', before, 'after', after, 'rules', to_jsonb(rules), 'protocol_version', protocol_version,
    'reason', reason, 'prev_hash', prev_hash)"""


class AuditEvent(models.Model):
    """One recorded decision (D1). Append-only: the database refuses UPDATE, DELETE and TRUNCATE (D2)."""

    at = models.DateTimeField(help_text="When the recorded event happened (clinical time).")
    entered_at = models.DateTimeField(help_text="When it was entered into WardFlow.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20)
    action = models.CharField(max_length=60, db_index=True)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    rules = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    protocol_version = models.CharField(max_length=40)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    record = models.BinaryField(
        editable=False,
        help_text="canonical() as appended: the bytes the hash covers. The database refuses a row whose fields differ "
        "from it (D2), so that verification hashes these bytes instead of rendering every row again.",
    )
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["patient", "id"]),
            models.Index(fields=["actor", "id"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} by {self.actor_username or 'system'}"

    def canonical(self) -> bytes:
        """The exact bytes the hash covers: every recorded field and the previous event's hash."""
        content = {
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "entered_at": self.entered_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "role": self.role,
            "action": self.action,
            "patient_id": self.patient_id,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "before": self.before,
            "after": self.after,
            "rules": list(self.rules),
            "protocol_version": self.protocol_version,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    def seal(self) -> None:
        """Keep the event's record, its canonical bytes as of now, and the hash over them (D2): once, on appending."""
        self.record = self.canonical()
        self.hash = hashlib.sha256(self.record).hexdigest()


class AuditCheckpoint(models.Model):
    """A signed statement of the chain's state (D3): its newest event, how many events it holds and that event's hash.
    The same line is appended to a file outside the database; verification trusts the file, signed with a key that
    the database never holds. Append-only like the events it anchors."""

    taken_at = models.DateTimeField()
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    sequence = models.BigIntegerField(help_text="Id of the newest event covered (0 for an empty chain).")
    events = models.BigIntegerField(help_text="Number of events up to and including `sequence`.")
    head_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64, help_text="SHA-256 of the raw Ed25519 public key.")
    signature = models.CharField(max_length=128, help_text="Ed25519 signature (hex) of the canonical payload.")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"checkpoint at event {self.sequence} ({self.events} events)"

    def payload(self) -> dict:
        return {
            "taken_at": self.taken_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "sequence": self.sequence,
            "events": self.events,
            "head_hash": self.head_hash,
        }


class ChainVerification(models.Model):
    """The outcome of one verification run, kept so that pages show the last result instead of recomputing it."""

    verified_at = models.DateTimeField()
    full = models.BooleanField(help_text="The whole chain was re-hashed, not only the events after the checkpoint.")
    ok = models.BooleanField()
    events = models.BigIntegerField()
    first_bad_event = models.BigIntegerField(null=True, blank=True)
    checkpoint_sequence = models.BigIntegerField(null=True, blank=True)
    checkpoint_events = models.BigIntegerField(null=True, blank=True)
    checkpoint_ok = models.BooleanField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"verification at {self.verified_at}: {'intact' if self.ok else 'broken'}"
