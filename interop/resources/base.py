"""How a kind of WardFlow record is shown in FHIR: one `FhirSource` per (record, resource type) pair.

Resource ids are `{prefix}-{pk}` or `{prefix}-{pk}-{suffix}` (FHIR ids allow letters, digits, '-' and '.'), so a
read finds its source from the resource type and the prefix, and its row from the primary key."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Expression, QuerySet
from fhir.resources.resource import Resource


@dataclass(frozen=True)
class FhirSource:
    resource_type: str
    """The FHIR resource type every resource of this source has, e.g. "Procedure"."""
    prefix: str
    """Unique across all sources: the first part of each resource id."""
    visible: Callable[[Any], QuerySet]
    """The rows the user may see (ward isolation): a selector taking the user."""
    patient_path: str
    """The lookup from a row to its patient, e.g. "patient" or "pump__patient"."""
    last_updated: str | Expression
    """The field (or expression) that `_lastUpdated` and `_since` filter on; it is also each resource's
    meta.lastUpdated."""
    to_resources: Callable[[Any], Sequence[Resource]]
    """The resources one row is shown as (a signed dose change has up to two Provenance: signature and read-back);
    every one of them has `resource_type`."""
    select_related: tuple[str, ...] = field(default=())
    prefetch_related: tuple[str, ...] = field(default=())
    """What `to_resources` reads beyond the row, fetched with the page so that a list costs a constant number of
    queries."""
    resources_per_row: Expression | None = None
    """When a row is not always shown as exactly one resource: how many it is, as an expression on the row (e.g. an
    observation and its NEWS2), so that a search's Bundle.total counts resources, as FHIR defines it."""


# The annotation every row of a FHIR query carries: its `last_updated` value (interop.selectors adds it).
LAST_UPDATED = "fhir_last_updated"


def meta(row) -> dict:
    """meta.lastUpdated of the resources of a row read through interop.selectors."""
    return {"lastUpdated": getattr(row, LAST_UPDATED).isoformat()}


def resource_id(prefix: str, pk: int, suffix: str = "") -> str:
    return f"{prefix}-{pk}-{suffix}" if suffix else f"{prefix}-{pk}"


def parse_resource_id(resource_id_: str) -> tuple[str, int, str] | None:
    """(prefix, pk, suffix) of an id this server made, or None for any other id."""
    prefix, _, rest = resource_id_.partition("-")
    number, _, suffix = rest.partition("-")
    if not prefix or not number.isdigit():
        return None
    return prefix, int(number), suffix
