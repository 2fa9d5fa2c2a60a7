"""Audit of access: every FHIR answer that holds patient records is recorded, as the REST writes are (D1)."""

from django.db import transaction

from wardflow.audit.services import record_event

from ..kinds import AuditAction


def record_fhir_read(*, actor, patient, resource_type: str, query: str, count: int, patient_ids=()) -> None:
    """`query`: the path and query string asked; `count`: the resources answered. `patient` when the request names
    one patient; a search across patients lists the patients disclosed (`patient_ids`)."""
    after = {"resource_type": resource_type, "query": query, "count": count}
    if patient is None:
        after["patients"] = sorted(patient_ids)
    with transaction.atomic():
        record_event(actor=actor, action=AuditAction.RECORDS_READ, patient=patient, after=after, rules=["D1"])
