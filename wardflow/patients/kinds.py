from enum import StrEnum


class AuditAction(StrEnum):
    REGISTERED = "patient.registered"
    FLAGS_CHANGED = "patient.flags_changed"
