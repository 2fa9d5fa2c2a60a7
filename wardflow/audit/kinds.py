"""Audit actions written by the audit app itself."""

from enum import StrEnum


class AuditAction(StrEnum):
    POLICY_IN_FORCE = "policy.in_force"
