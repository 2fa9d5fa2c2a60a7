"""Idempotent POSTs: a repeated request with the same key and body returns the first response, creating nothing.

The key's row is claimed with INSERT .. ON CONFLICT DO NOTHING and then locked FOR UPDATE inside the request's
transaction, so a concurrent duplicate waits for the first request to finish and then replays its response.
Only successful responses are kept: a refused request may be corrected and sent again under the same key.
"""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from wardflow.errors import WorkflowConflict

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class Replay(Exception):
    def __init__(self, record: IdempotencyKey):
        self.record = record


def request_fingerprint(method: str, path: str, data) -> str:
    body = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def claim(*, user, key: str, fingerprint: str) -> IdempotencyKey:
    """Claim `key` for this request, or raise Replay with the stored first response. Caller holds a transaction."""
    if len(key) > MAX_KEY_LENGTH:
        raise WorkflowConflict(f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.", rule="idempotency")
    IdempotencyKey.objects.bulk_create(
        [IdempotencyKey(user=user, key=key, request_hash=fingerprint)], ignore_conflicts=True
    )
    record = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
    if record.request_hash != fingerprint:
        raise WorkflowConflict(
            f"This {HEADER} was already used for a different request; send a new key for a new request.",
            rule="idempotency",
        )
    if record.response_status is not None:
        raise Replay(record)
    return record


def complete(record: IdempotencyKey, *, status: int, body) -> None:
    if 200 <= status < 300:
        record.response_status = status
        record.response_body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        record.save(update_fields=["response_status", "response_body"])
    else:
        record.delete()


def purge_expired(now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
