"""The chain's anchor outside the database (D3): the Ed25519 signing key and the append-only checkpoint file.

Neither lives in PostgreSQL, so that someone able to rewrite the audit table can neither forge a checkpoint nor
remove one: the key is read from a file (AUDIT_CHECKPOINT_KEY_FILE) and every checkpoint is appended, one JSON line
each, to AUDIT_CHECKPOINT_FILE, which the operator keeps append-only and copies off the host."""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PAYLOAD_FIELDS = ("taken_at", "sequence", "events", "head_hash")


def canonical(payload: dict) -> bytes:
    """The exact bytes signed: the checkpoint's fields only, in one stable form."""
    return json.dumps({k: payload[k] for k in PAYLOAD_FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def signing_key() -> Ed25519PrivateKey:
    path = Path(settings.AUDIT_CHECKPOINT_KEY_FILE)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"AUDIT_CHECKPOINT_KEY_FILE {path}: no readable Ed25519 private key in PEM ({exc}). "
            "Create one with `python manage.py create_checkpoint_key` (README, Production setup)."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"AUDIT_CHECKPOINT_KEY_FILE {path} holds a key that is not Ed25519.")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(payload: dict) -> tuple[str, str]:
    """(key id, hex signature) of a checkpoint payload."""
    key = signing_key()
    return key_id(key.public_key()), key.sign(canonical(payload)).hex()


def append(line: dict) -> None:
    """Append one checkpoint line and flush it to disk before the database copy commits."""
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n")
        file.flush()
        os.fsync(file.fileno())


@dataclass(frozen=True)
class FileCheckpoint:
    line_number: int
    sequence: int | None
    events: int | None
    head_hash: str | None
    signed: bool  # parsed, and (where checked) its signature verifies with the configured key


def read_checkpoints(*, every_signature: bool) -> list[FileCheckpoint]:
    """Every line of the checkpoint file, oldest first (none when there is no file). The newest line's signature is
    always checked, every line's with `every_signature`; a line not checked counts as signed."""
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return []
    public_key = signing_key().public_key()
    expected_key_id = key_id(public_key)
    last = len(lines)
    return [
        _parse(number, text, public_key if every_signature or number == last else None, expected_key_id)
        for number, text in enumerate(lines, start=1)
    ]


def _parse(number: int, text: str, public_key: Ed25519PublicKey | None, expected_key_id: str) -> FileCheckpoint:
    try:
        line = json.loads(text)
        sequence, events, head_hash = int(line["sequence"]), int(line["events"]), str(line["head_hash"])
        if public_key is not None:
            if line["key_id"] != expected_key_id:
                raise ValueError("signed with another key")
            public_key.verify(bytes.fromhex(line["signature"]), canonical(line))
    except (ValueError, KeyError, TypeError, InvalidSignature):
        return FileCheckpoint(number, None, None, None, signed=False)
    return FileCheckpoint(number, sequence, events, head_hash, signed=True)
