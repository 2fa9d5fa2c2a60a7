"""The FHIR API's own kinds: the audit action it writes."""

from enum import StrEnum


class AuditAction(StrEnum):
    # Patient records disclosed through the FHIR API: who read them, which patient, what was asked and how many.
    RECORDS_READ = "fhir.records_read"
