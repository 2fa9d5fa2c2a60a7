from enum import StrEnum


class AuditAction(StrEnum):
    WARD_CREATED = "ward.created"
    STAFF_ADDED = "staff.added"
