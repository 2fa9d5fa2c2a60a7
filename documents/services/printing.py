"""Printing a document with patient data (D1): who printed what about whom, and when."""

from django.db import transaction

from wardflow.audit.services import record_event

from ..kinds import AuditAction, Document


@transaction.atomic
def record_printing(*, actor, document: Document, patient, subject) -> None:
    """D1: a printed document carries patient data out of the system; the trail keeps each print."""
    record_event(
        actor=actor,
        action=AuditAction.DOCUMENT_PRINTED,
        patient=patient,
        subject=subject,
        after={"document": document},
        rules=["D1"],
    )
