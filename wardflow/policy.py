"""The protocol policy in force: protocol.py's defaults with the hospital's overrides from settings.

A changed policy is never silent (protocol.md): the version every decision records carries a fingerprint of the
overrides, and the audit app records the policy in force after every migrate (i.e. at each deployment)."""

import dataclasses
import hashlib
import json

from django.conf import settings

from wardflow.protocol import DEFAULT_POLICY, PROTOCOL_VERSION, Policy

# The policy built from the overrides last seen, with a copy of them: a clinical act asks for the policy several
# times, and building it (dataclasses.replace over every field) costs more than comparing the overrides.
_built: tuple[dict, Policy] = ({}, DEFAULT_POLICY)


def current_policy() -> Policy:
    global _built
    overrides, policy = _built
    if overrides != settings.WARDFLOW_POLICY:
        policy = DEFAULT_POLICY.with_overrides(settings.WARDFLOW_POLICY)
        _built = (dict(settings.WARDFLOW_POLICY), policy)
    return policy


def as_json(policy: Policy) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(policy), default=str))


def protocol_version() -> str:
    """PROTOCOL_VERSION, with a fingerprint of the local policy when it differs from the defaults."""
    if current_policy() == DEFAULT_POLICY:
        return PROTOCOL_VERSION
    digest = hashlib.sha256(json.dumps(as_json(current_policy()), sort_keys=True).encode()).hexdigest()
    return f"{PROTOCOL_VERSION}+local.{digest[:8]}"
