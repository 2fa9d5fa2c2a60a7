"""FHIR reads: the rows of a source the caller may see (ward isolation: the source's own selector), with what
their resources need fetched in the same few queries, whatever the number of rows."""

from datetime import datetime

from django.db.models import Count, F, QuerySet, Sum

from wardflow.patients.models import Patient

from .resources.base import LAST_UPDATED, FhirSource

# The annotation that names each row's patient (the audit of access records it).
PATIENT_ID = "fhir_patient_id"


def source_rows(source: FhirSource, user) -> QuerySet:
    last_updated = F(source.last_updated) if isinstance(source.last_updated, str) else source.last_updated
    rows = source.visible(user).annotate(**{LAST_UPDATED: last_updated, PATIENT_ID: F(source.patient_path)})
    # An empty select_related() would follow every foreign key.
    if source.select_related:
        rows = rows.select_related(*source.select_related)
    if source.prefetch_related:
        rows = rows.prefetch_related(*source.prefetch_related)
    return rows.order_by(LAST_UPDATED, "pk")


def source_row(source: FhirSource, user, pk: int):
    """The row behind one resource id, or None when it does not exist or is another ward's."""
    return source_rows(source, user).filter(pk=pk).first()


def search_rows(
    source: FhirSource,
    user,
    *,
    patient_id: int | None = None,
    mrn: str | None = None,
    last_updated: tuple[tuple[str, datetime], ...] = (),
) -> QuerySet:
    """`last_updated` holds (lookup, instant) pairs, e.g. ("gte", ...), all of which must hold."""
    rows = source_rows(source, user)
    if patient_id is not None:
        rows = rows.filter(**{source.patient_path: patient_id})
    if mrn is not None:
        rows = rows.filter(mrn=mrn)
    for lookup, instant in last_updated:
        rows = rows.filter(**{f"{LAST_UPDATED}__{lookup}": instant})
    return rows


def matches(source: FhirSource, rows: QuerySet) -> tuple[int, int]:
    """(rows, resources) a search matched, in one query."""
    per_row = Count("pk") if source.resources_per_row is None else Sum(source.resources_per_row)
    counted = rows.order_by().aggregate(rows=Count("pk"), resources=per_row)
    return counted["rows"], counted["resources"] or 0


def patient_of(patient_id: int | None) -> Patient | None:
    """The patient an audit event of access names (the caller's visibility was checked with the records)."""
    return None if patient_id is None else Patient.objects.filter(pk=patient_id).first()
