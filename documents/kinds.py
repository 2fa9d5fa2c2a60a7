"""What printing leaves behind: its audit events."""

from enum import StrEnum


class AuditAction(StrEnum):
    DOCUMENT_PRINTED = "document.printed"


class Document(StrEnum):
    EMERGENCY_CARD = "emergency_card"
    REFILL_RECORD = "refill_record"
    SCREENING_SUMMARY = "screening_summary"
