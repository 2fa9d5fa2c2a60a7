"""The audit trail at scale, on a chain seeded by wardflow.audit.bench (each event hashed by AuditEvent.canonical()):
the CSV export streams in flat memory and a verification after a checkpoint reads only the events since. Speed is
measured by `make bench` (`python -m wardflow.audit.bench`, at 1,000,000 events), never asserted on a shared
machine's clock here."""

import tracemalloc

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from wardflow.audit import selectors
from wardflow.audit.bench import seed_events
from wardflow.audit.services import take_checkpoint, verify

pytestmark = pytest.mark.django_db

EVENTS = 20_000


@pytest.fixture(autouse=True)
def checkpoint_key(settings, tmp_path):
    """A signing key of this test's own, outside the database (D3)."""
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    settings.AUDIT_CHECKPOINT_KEY_FILE = tmp_path / "checkpoint-key.pem"
    settings.AUDIT_CHECKPOINT_KEY_FILE.write_bytes(key)
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture
def seeded(administrator):
    seed_events(EVENTS, actor=administrator)


def _export(client) -> int:
    response = client.get("/api/v1/audit-events/?format=csv")
    return sum(chunk.count("\n" if isinstance(chunk, str) else b"\n") for chunk in response.streaming_content) - 1


@pytest.fixture
def admin_api(administrator):
    client = APIClient()
    client.force_authenticate(administrator)
    return client


def test_the_csv_export_streams_in_flat_memory(seeded, admin_api):
    tracemalloc.start()
    assert _export(admin_api) == EVENTS
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 30 * 1024 * 1024  # a few chunks of rows, whatever the number of events


def test_a_verification_after_a_checkpoint_reads_only_the_events_since(seeded, administrator, monkeypatch):
    take_checkpoint(by=administrator)
    seed_events(10, actor=administrator)
    walked = []
    original = selectors._check_range
    monkeypatch.setattr(selectors, "_check_range", lambda part, marks: walked.append(part) or original(part, marks))
    result = verify()
    assert result.ok and result.events == EVENTS + 10 and not result.full
    assert [part.upto - part.after for part in walked] == [10]
