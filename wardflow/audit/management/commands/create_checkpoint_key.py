import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wardflow.audit.anchor import key_id


class Command(BaseCommand):
    help = (
        "Create the Ed25519 key that signs audit checkpoints (D3) at AUDIT_CHECKPOINT_KEY_FILE (or PATH), readable "
        "by its owner only. Never overwrites a key: checkpoints signed with it would no longer verify."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="where to write the key (default: AUDIT_CHECKPOINT_KEY_FILE)")

    def handle(self, *args, path=None, **options):
        target = Path(path or settings.AUDIT_CHECKPOINT_KEY_FILE)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{target} exists: a checkpoint key is never overwritten.") from exc
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        self.stdout.write(
            self.style.SUCCESS(f"Checkpoint key written to {target} (key id {key_id(key.public_key())}).")
        )
