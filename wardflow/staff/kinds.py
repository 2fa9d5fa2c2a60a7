from enum import StrEnum


class AuditAction(StrEnum):
    WARD_CREATED = "ward.created"
    STAFF_ADDED = "staff.added"
    SIGNATURE_FAILED = "signature.failed"  # D5: a signature with a wrong user name or password
    SIGNING_LOCKED = "signature.locked"  # D5: too many failed signatures; the signer's signing is locked
