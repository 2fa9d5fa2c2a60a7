"""Every kind of WardFlow record the FHIR API serves, and how a request finds the one it names."""

from . import audit_events, devices, medication, observations, patients, procedures
from .base import FhirSource

# Patient first: $everything lists the patient before their records.
SOURCES: list[FhirSource] = [
    *patients.SOURCES,
    *devices.SOURCES,
    *observations.SOURCES,
    *medication.SOURCES,
    *procedures.SOURCES,
    *audit_events.SOURCES,
]

RESOURCE_TYPES: tuple[str, ...] = tuple(dict.fromkeys(source.resource_type for source in SOURCES))


def sources_of_type(resource_type: str) -> list[FhirSource]:
    return [source for source in SOURCES if source.resource_type == resource_type]


def source_for(resource_type: str, prefix: str) -> FhirSource | None:
    return next((s for s in SOURCES if s.resource_type == resource_type and s.prefix == prefix), None)
