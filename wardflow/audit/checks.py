"""Receivers of the audit app, connected in AuditConfig.ready()."""

from .services import record_policy_if_changed


def record_policy_after_migrate(sender, **kwargs) -> None:
    """Every deployment migrates: a policy that changed since the last one is audited then (protocol.md)."""
    record_policy_if_changed()
