"""D3: signed checkpoints, taken by beat and on demand, kept in the database and in the append-only file."""

import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management import CommandError, call_command

from wardflow.audit import anchor, tasks
from wardflow.audit.models import AuditCheckpoint, ChainVerification
from wardflow.audit.services import take_checkpoint

pytestmark = pytest.mark.django_db


def test_a_checkpoint_is_signed_and_appended_to_the_file_as_well_as_the_table(append, checkpoint_anchor):
    events = append(3)
    take_checkpoint()
    append(1)
    checkpoint = take_checkpoint()
    lines = [json.loads(text) for text in checkpoint_anchor.read_text().splitlines()]
    assert [(line["sequence"], line["events"]) for line in lines] == [(events[-1].pk, 3), (checkpoint.sequence, 4)]
    assert lines[-1]["head_hash"] == checkpoint.head_hash and lines[-1]["signature"] == checkpoint.signature
    public = serialization.load_pem_private_key(settings.AUDIT_CHECKPOINT_KEY_FILE.read_bytes(), None).public_key()
    public.verify(bytes.fromhex(lines[-1]["signature"]), anchor.canonical(lines[-1]))  # raises if forged
    assert AuditCheckpoint.objects.count() == 2


def test_no_checkpoint_is_taken_of_a_broken_chain(append, tamper, checkpoint_anchor):
    events = append(2)
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[0].pk])
    with pytest.raises(Exception, match="does not verify") as refused:
        take_checkpoint()
    assert refused.value.rule == "D3"
    assert not AuditCheckpoint.objects.exists() and not checkpoint_anchor.exists()
    assert ChainVerification.objects.get().first_bad_event == events[0].pk


def test_without_a_key_no_checkpoint_is_taken(append, settings, tmp_path, checkpoint_anchor):
    append(1)
    settings.AUDIT_CHECKPOINT_KEY_FILE = tmp_path / "missing.pem"
    with pytest.raises(Exception, match="AUDIT_CHECKPOINT_KEY_FILE"):
        take_checkpoint()
    assert not AuditCheckpoint.objects.exists() and not checkpoint_anchor.exists()


def test_beat_takes_a_checkpoint_every_five_minutes_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry == {"task": "wardflow.audit.tasks.take_checkpoint", "schedule": 300.0}


def test_the_beat_task_stores_the_verification_with_its_checkpoint(append):
    events = append(2)
    assert tasks.take_checkpoint() == events[-1].pk
    verification = ChainVerification.objects.get()
    assert verification.ok and (verification.checkpoint_sequence, verification.checkpoint_events) == (events[-1].pk, 2)


def test_the_command_takes_a_checkpoint(append):
    append(2)
    out = io.StringIO()
    call_command("take_audit_checkpoint", stdout=out)
    assert "2 events" in out.getvalue()
    assert AuditCheckpoint.objects.get().events == 2


def test_verify_audit_full_names_an_old_edited_event(append, tamper):
    events = append(3)
    take_checkpoint()
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[0].pk}"):
        call_command("verify_audit", "--full")
    assert ChainVerification.objects.get().full


def test_create_checkpoint_key_never_overwrites_a_key(tmp_path):
    target = tmp_path / "key.pem"
    call_command("create_checkpoint_key", str(target), stdout=io.StringIO())
    first = target.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("create_checkpoint_key", str(target))
    assert target.read_bytes() == first


def test_administrator_takes_and_lists_checkpoints(api_as, administrator, append):
    events = append(2)
    client = api_as(administrator)
    response = client.post("/api/v1/audit-checkpoints/")
    assert response.status_code == 201
    assert (response.json()["sequence"], response.json()["events"], response.json()["taken_by"]) == (
        events[-1].pk, 2, administrator.username)  # fmt: skip
    listed = client.get("/api/v1/audit-checkpoints/").json()["results"]
    assert [c["id"] for c in listed] == [response.json()["id"]]


@pytest.mark.parametrize("role", ["nurse", "neurologist"])
def test_clinicians_may_not_take_or_list_checkpoints(api_as, request, role, append):
    append(1)
    client = api_as(request.getfixturevalue(role))
    assert client.post("/api/v1/audit-checkpoints/").status_code == 403
    assert client.get("/api/v1/audit-checkpoints/").status_code == 403
    assert not AuditCheckpoint.objects.exists()


def test_verify_endpoint_reports_the_checkpoint(api_as, administrator, append, tamper):
    events = append(2)
    take_checkpoint()
    client = api_as(administrator)
    assert client.get("/api/v1/audit-events/verify/").json() == {
        "ok": True, "events": 2, "checkpoint": {"sequence": events[-1].pk, "events": 2, "ok": True}}  # fmt: skip
    tamper("DELETE FROM audit_auditevent")
    body = client.get("/api/v1/audit-events/verify/").json()
    assert body["ok"] is False and body["checkpoint"] == {"sequence": events[-1].pk, "events": 2, "ok": False}
