"""The protocol policy in force: protocol.py's defaults with the hospital's overrides from settings.

A changed policy is never silent (protocol.md): the version every decision records carries a fingerprint of the
overrides, and `record_policy_if_changed` (run after every migrate, i.e. at each deployment) audits a change."""

import dataclasses
import hashlib
import json

from django.conf import settings

from wardflow.protocol import DEFAULT_POLICY, PROTOCOL_VERSION, Policy

POLICY_ACTION = "policy.in_force"


def current_policy() -> Policy:
    return DEFAULT_POLICY.with_overrides(settings.WARDFLOW_POLICY)


def _as_json(policy: Policy) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(policy), default=str))


def protocol_version() -> str:
    """PROTOCOL_VERSION, with a fingerprint of the local policy when it differs from the defaults."""
    if current_policy() == DEFAULT_POLICY:
        return PROTOCOL_VERSION
    digest = hashlib.sha256(json.dumps(_as_json(current_policy()), sort_keys=True).encode()).hexdigest()
    return f"{PROTOCOL_VERSION}+local.{digest[:8]}"


def record_policy_if_changed() -> bool:
    """Audit the policy in force when it differs from the last one recorded (or none was). Returns whether it did."""
    from django.db import transaction

    from wardflow.audit.models import AuditEvent
    from wardflow.audit.services import record_event

    in_force = _as_json(current_policy())
    with transaction.atomic():
        last = AuditEvent.objects.filter(action=POLICY_ACTION).order_by("-id").values_list("after", flat=True).first()
        if last == in_force or (last is None and in_force == _as_json(DEFAULT_POLICY)):
            return False  # unchanged, or the protocol's own defaults (which PROTOCOL_VERSION already names)
        changed = sorted(k for k in in_force if last is None or last.get(k) != in_force[k])
        record_event(actor=None, action=POLICY_ACTION, before=last, after=in_force,
                     reason="Protocol policy in force: " + ", ".join(changed))  # fmt: skip
    return True
