"""D2: each event keeps the exact bytes its hash covers, and the database refuses a row whose fields differ from them,
so that verification hashes the stored bytes instead of rendering every event again. Events written before this
migration get their record from their own fields, which is what their hash was computed over."""

import json
from datetime import UTC

from django.db import migrations, models

BINDING = "audit_event_fields_are_its_record"
# A copy of wardflow.audit.models.RECORD_BINDING_CHECK as it was when this migration was written.
CHECK = """convert_from(record, 'UTF8')::jsonb = jsonb_build_object(
    'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00',
    'entered_at', to_char(entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00',
    'actor_id', actor_id, 'actor_username', actor_username, 'role', role, 'action', action,
    'patient_id', patient_id, 'subject_type', subject_type, 'subject_id', subject_id,
    'before', before, 'after', after, 'rules', to_jsonb(rules), 'protocol_version', protocol_version,
    'reason', reason, 'prev_hash', prev_hash)"""
BATCH = 2_000


def _canonical(event) -> bytes:
    """AuditEvent.canonical() as it was when this migration was written: what the existing hashes cover."""
    content = {
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "entered_at": event.entered_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "role": event.role,
        "action": event.action,
        "patient_id": event.patient_id,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
        "rules": list(event.rules),
        "protocol_version": event.protocol_version,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_existing_events(apps, schema_editor):
    """The append-only trigger is the table owner's to switch off, for this one-time fill of the new column only."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        last = 0
        while batch := list(AuditEvent.objects.filter(pk__gt=last).defer("record").order_by("id")[:BATCH]):
            cursor.executemany(
                "UPDATE audit_auditevent SET record = %s WHERE id = %s", [(_canonical(e), e.pk) for e in batch]
            )
            last = batch[-1].pk
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_checkpoints")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="record",
            field=models.BinaryField(null=True, editable=False),
        ),
        migrations.RunPython(record_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="record",
            field=models.BinaryField(
                editable=False,
                help_text="canonical() as appended: the bytes the hash covers. The database refuses a row whose "
                "fields differ from it (D2), so that verification hashes these bytes instead of rendering every "
                "row again.",
            ),
        ),
        migrations.RunSQL(
            f"ALTER TABLE audit_auditevent ADD CONSTRAINT {BINDING} CHECK ({CHECK})",
            f"ALTER TABLE audit_auditevent DROP CONSTRAINT {BINDING}",
        ),
    ]
