import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction

from wardflow.audit.models import RECORD_BINDING
from wardflow.audit.services import record_event


@pytest.fixture(autouse=True)
def checkpoint_anchor(settings, tmp_path):
    """Each test has its own signing key and checkpoint file outside the database (D3), never the developer's."""
    key = tmp_path / "checkpoint-key.pem"
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key.write_bytes(pem)
    settings.AUDIT_CHECKPOINT_KEY_FILE = key
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "anchor" / "audit-checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


@pytest.fixture
def append():
    def append_events(n: int, actor=None, **kwargs):
        with transaction.atomic():
            return [record_event(actor=actor, action="test.event", after={"n": i}, **kwargs) for i in range(n)]

    return append_events


@pytest.fixture
def tamper():
    """An attacker with the table owner's rights switches the trigger off and drops the binding of each event's fields
    to its hashed record (as the test database's superuser): the chain must still give the edit away."""

    def run(sql: str, params=()):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT IF EXISTS {RECORD_BINDING}")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")

    return run
