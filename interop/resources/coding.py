"""Code systems, identifiers and the small building blocks every resource uses. One place for each URI."""

from datetime import date, datetime
from decimal import Decimal

from django.conf import settings

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PROVENANCE_PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"


def local_system(name: str) -> str:
    """A WardFlow code system or identifier system, under the server's canonical base (settings.FHIR_CANONICAL_BASE)."""
    return f"{settings.FHIR_CANONICAL_BASE.rstrip('/')}/{name}"


def coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def concept(system: str, code: str, display: str = "", text: str = "") -> dict:
    return {"coding": [coding(system, code, display)], **({"text": text} if text else {})}


def quantity(value: Decimal | int, unit: str, code: str | None = None) -> dict:
    """A UCUM quantity; `code` defaults to the unit (e.g. "mL", "ug/d")."""
    return {"value": Decimal(value), "unit": unit, "system": UCUM, "code": code or unit}


def reference(resource_type: str, resource_id: str, display: str = "") -> dict:
    return {"reference": f"{resource_type}/{resource_id}", **({"display": display} if display else {})}


def staff_reference(user) -> dict:
    """Staff are not served as Practitioner resources: a reference by identifier (the user name) and display."""
    if user is None:
        return {"display": "WardFlow (system)"}
    name = user.get_full_name() or user.username
    return {"identifier": {"system": local_system("staff"), "value": user.username}, "display": name}


def instant(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None
