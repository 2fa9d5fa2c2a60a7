"""The protocol policy in force: protocol.py's defaults with the hospital's overrides from settings."""

from django.conf import settings

from wardflow.protocol import DEFAULT_POLICY, Policy


def current_policy() -> Policy:
    return DEFAULT_POLICY.with_overrides(settings.WARDFLOW_POLICY)
