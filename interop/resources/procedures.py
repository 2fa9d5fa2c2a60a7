"""Procedures on the pump: its implant (T1), each refill (R5, R6), its explant and its replacement (T13). No SNOMED
CT concept is asserted for them: the kinds are a WardFlow code system, each with its display."""

from django.db.models.functions import Greatest
from fhir.resources.procedure import Procedure

from titration.selectors import visible_pumps, visible_refills

from .base import FhirSource, meta, resource_id
from .coding import concept, instant, local_system, quantity, reference, staff_reference

PROCEDURE = local_system("procedure")
REFILL_EXTENSION = local_system("StructureDefinition/refill-")


def _patient(pump) -> dict:
    return reference("Patient", resource_id("patient", pump.patient_id))


def _device(pump, action: str) -> dict:
    return {
        "action": {"text": action},
        "manipulated": reference("Device", resource_id("pump", pump.pk), f"{pump.model} {pump.serial}"),
    }


def implant_procedure(pump) -> list[Procedure]:
    """T1: the pump implanted after a candidate screening trial."""
    return [
        Procedure.parse_obj(
            {
                "id": resource_id("implant", pump.pk),
                "meta": meta(pump),
                "status": "completed",
                "code": concept(PROCEDURE, "implant", "Implantation of intrathecal baclofen pump"),
                "subject": _patient(pump),
                "performedDateTime": instant(pump.implanted_at),
                "performer": [{"actor": staff_reference(pump.implanted_by)}],
                "focalDevice": [_device(pump, "implanted")],
            }
        )
    ]


def replacement_procedure(pump) -> list[Procedure]:
    """T13: the pump `replaces` was taken out and this one implanted in the same procedure."""
    old = pump.replaces
    return [
        Procedure.parse_obj(
            {
                "id": resource_id("replacement", pump.pk),
                "meta": meta(pump),
                "status": "completed",
                "code": concept(PROCEDURE, "replacement", "Replacement of intrathecal baclofen pump"),
                "subject": _patient(pump),
                "performedDateTime": instant(pump.implanted_at),
                "performer": [{"actor": staff_reference(pump.implanted_by)}],
                "reasonCode": [{"text": old.explant_reason}] if old.explant_reason else [],
                "focalDevice": [_device(old, "removed"), _device(pump, "implanted")],
            }
        )
    ]


def explant_procedure(pump) -> list[Procedure]:
    """T13: the pump removed, and why; it keeps its record."""
    return [
        Procedure.parse_obj(
            {
                "id": resource_id("explant", pump.pk),
                "meta": meta(pump),
                "status": "completed",
                "code": concept(PROCEDURE, "explant", "Removal of intrathecal baclofen pump"),
                "subject": _patient(pump),
                "performedDateTime": instant(pump.explanted_at),
                "performer": [{"actor": staff_reference(pump.explanted_by)}],
                "reasonCode": [{"text": pump.explant_reason}] if pump.explant_reason else [],
                "focalDevice": [_device(pump, "removed")],
            }
        )
    ]


def _extension(name: str, **value) -> dict:
    return {"url": f"{REFILL_EXTENSION}{name}", **value}


def refill_procedure(refill) -> list[Procedure]:
    """R5: what was removed and added, the strength and lot of the new drug, and the residual found against the
    one expected (the discrepancy: found minus expected; beyond the policy limit it raised an advisory). R6: the
    septum access and aseptic technique confirmed. D4: a refill entered in error is shown withdrawn."""
    pump = refill.pump
    resource = {
        "id": resource_id("refill", refill.pk),
        "meta": meta(refill),
        "status": "entered-in-error" if refill.entered_in_error else "completed",
        "code": concept(PROCEDURE, "refill", "Refill of intrathecal baclofen pump reservoir"),
        "subject": _patient(pump),
        "performedDateTime": instant(refill.refilled_at),
        "performer": [{"actor": staff_reference(refill.refilled_by)}],
        "focalDevice": [_device(pump, "refilled")],
        "extension": [
            _extension("volume-removed", valueQuantity=quantity(refill.volume_removed_ml, "mL")),
            _extension("volume-added", valueQuantity=quantity(refill.volume_added_ml, "mL")),
            _extension("expected-residual", valueQuantity=quantity(refill.expected_residual_ml, "mL")),
            _extension(
                "residual-discrepancy",
                valueQuantity=quantity(refill.volume_removed_ml - refill.expected_residual_ml, "mL"),
            ),
            _extension("concentration", valueQuantity=quantity(refill.concentration_mcg_per_ml, "mcg/mL", "ug/mL")),
            _extension("lot", valueString=refill.lot),
            _extension("septum-access-confirmed", valueBoolean=refill.septum_access_confirmed),
            _extension("aseptic-technique", valueBoolean=refill.aseptic_technique),
        ],
    }
    if refill.entered_in_error:
        resource["statusReason"] = {"text": f"D4: entered in error: {refill.entered_in_error_reason}"}
    return [Procedure.parse_obj(resource)]


def first_implants(user):
    return visible_pumps(user).filter(replaces__isnull=True)


def replacements(user):
    return visible_pumps(user).filter(replaces__isnull=False)


def explants(user):
    """T13: pumps taken out on their own; a pump taken out at a replacement is part of that procedure."""
    return visible_pumps(user).filter(explanted_at__isnull=False, replaced_by__isnull=True)


SOURCES = [
    FhirSource(
        resource_type="Procedure",
        prefix="implant",
        visible=first_implants,
        patient_path="patient",
        last_updated="implanted_at",
        to_resources=implant_procedure,
        select_related=("implanted_by",),
    ),
    FhirSource(
        resource_type="Procedure",
        prefix="replacement",
        visible=replacements,
        patient_path="patient",
        last_updated="implanted_at",
        to_resources=replacement_procedure,
        select_related=("implanted_by", "replaces"),
    ),
    FhirSource(
        resource_type="Procedure",
        prefix="explant",
        visible=explants,
        patient_path="patient",
        last_updated="explanted_at",
        to_resources=explant_procedure,
        select_related=("explanted_by",),
    ),
    FhirSource(
        resource_type="Procedure",
        prefix="refill",
        visible=visible_refills,
        patient_path="pump__patient",
        last_updated=Greatest("entered_at", "entered_in_error_at"),
        to_resources=refill_procedure,
        select_related=("pump", "refilled_by"),
    ),
]
