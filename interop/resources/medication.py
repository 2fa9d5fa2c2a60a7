"""Intrathecal baclofen orders and what was given: MedicationRequest for each signed dose change (T9) with its
Provenance (the signature, D5; the independent read-back, T12), and MedicationAdministration for each test dose (S4)
and for each period a program was in force (R2)."""

from decimal import Decimal

from django.db.models import Case, DecimalField, F, OuterRef, Q, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Greatest
from fhir.resources.medicationadministration import MedicationAdministration
from fhir.resources.medicationrequest import MedicationRequest
from fhir.resources.provenance import Provenance

from screening.selectors import visible_test_doses
from titration.models import IN_FORCE_FROM, STRENGTH, WAS_IN_FORCE, DoseChange
from titration.selectors import parse_segments, visible_dose_changes
from wardflow import protocol
from wardflow.staff.models import SignatureMeaning

from .base import FhirSource, meta, resource_id
from .coding import (
    PROVENANCE_PARTICIPANT_TYPE,
    SIGNATURE_TYPE,
    SNOMED,
    coding,
    concept,
    instant,
    local_system,
    quantity,
    reference,
    staff_reference,
)

BACLOFEN = concept(SNOMED, "387342009", "Baclofen (substance)", text="baclofen intrathecal")
INTRATHECAL = concept(SNOMED, "72607000", "Intrathecal route")
DOSE_CHANGE_KIND = local_system("dose-change-kind")
SIGNATURE_MEANING = local_system("signature-meaning")
PROVENANCE_ACTIVITY = local_system("provenance-activity")
# The contained Medication of every order and administration: referenced as "#baclofen".
MEDICATION_ID = "baclofen"
RATE_PLACES = Decimal("0.001")
VERIFICATION_SIGNATURE = coding(SIGNATURE_TYPE, "1.2.840.10065.1.12.1.5", "Verification Signature")


def _patient(change: DoseChange) -> dict:
    return reference("Patient", resource_id("patient", change.pump.patient_id))


def _pump(pump) -> dict:
    return reference("Device", resource_id("pump", pump.pk), f"{pump.model} {pump.serial}")


def _request(change: DoseChange) -> dict:
    return reference("MedicationRequest", resource_id("change", change.pk))


def _baclofen(concentration_mcg_per_ml: Decimal | None = None, lot: str = "") -> dict:
    """Baclofen for intrathecal use; its strength (mcg/mL, T2/T15) as the ingredient's strength, the lot (S4) as
    the batch."""
    medication = {"resourceType": "Medication", "id": MEDICATION_ID, "code": BACLOFEN}
    if concentration_mcg_per_ml is not None:
        medication["ingredient"] = [
            {
                "itemCodeableConcept": BACLOFEN,
                "isActive": True,
                "strength": {"numerator": quantity(concentration_mcg_per_ml, "ug"), "denominator": quantity(1, "mL")},
            }
        ]
    if lot:
        medication["batch"] = {"lotNumber": lot}
    return medication


# --- MedicationRequest: the signed order -------------------------------------------------------------------------


def request_status(change: DoseChange) -> str:
    """A signed change is an order in progress until a later one supersedes it (completed) or its pump is taken
    out (stopped, T13); one rejected after its signature (T6, T13) was withdrawn before it ever ran (cancelled)."""
    if change.state == DoseChange.State.SUPERSEDED:
        return "completed"
    if change.state == DoseChange.State.REJECTED:
        return "cancelled"
    return "active" if change.pump.in_place else "stopped"


def _dosage(change: DoseChange) -> list[dict]:
    """T7: a flat program is one instruction at the daily dose; a program with time segments is one instruction per
    segment, each at its own hourly rate from its time of day for its length, the segments together delivering the
    daily dose."""
    if not change.segments:
        return [
            {
                "text": f"{change.new_daily_dose_mcg} mcg/day intrathecal, continuous",
                "route": INTRATHECAL,
                "doseAndRate": [{"rateQuantity": quantity(change.new_daily_dose_mcg, "mcg/day", "ug/d")}],
            }
        ]
    segments = parse_segments(change.segments)
    rates = protocol.segment_rates_mcg_per_hour(change.new_daily_dose_mcg, segments)
    minutes = protocol.segment_minutes(segments)
    dosage = []
    for sequence, (segment, rate, length) in enumerate(zip(segments, rates, minutes, strict=True), start=1):
        start = f"{segment.start_minute // 60:02d}:{segment.start_minute % 60:02d}"
        dosage.append(
            {
                "sequence": sequence,
                "text": f"T7 segment from {start} for {length} min at {segment.percent} % of the base rate; "
                f"{change.new_daily_dose_mcg} mcg/day in total",
                "timing": {
                    "repeat": {
                        "frequency": 1,
                        "period": 1,
                        "periodUnit": "d",
                        "timeOfDay": [f"{start}:00"],
                        "duration": length,
                        "durationUnit": "min",
                    }
                },
                "route": INTRATHECAL,
                "doseAndRate": [{"rateQuantity": quantity(rate.quantize(RATE_PLACES), "mcg/h", "ug/h")}],
            }
        )
    return dosage


def _notes(change: DoseChange) -> list[dict]:
    notes = [("T4 override", change.override_reason), ("Rejected", change.rejection_reason)]
    return [{"text": f"{label}: {text}"} for label, text in notes if text]


def medication_request(change: DoseChange) -> list[MedicationRequest]:
    # T12: while the change waits for its independent read-back, its approved values stay blind to whoever may
    # read it back; the order is shown without them.
    blind = change.state == DoseChange.State.PROGRAMMED
    resource = {
        "id": resource_id("change", change.pk),
        "meta": meta(change),
        "status": request_status(change),
        "intent": "order",
        "category": [concept(DOSE_CHANGE_KIND, change.kind, change.kind.replace("_", " "))],
        "contained": [_baclofen(None if blind else change.concentration_then)],
        "medicationReference": {"reference": f"#{MEDICATION_ID}"},
        "subject": _patient(change),
        "authoredOn": instant(change.approved_at),
        "requester": staff_reference(change.approved_by),
        "reasonCode": [{"text": change.reason}] if change.reason else [],
        "note": _notes(change),
        # The pump the program runs on: MedicationRequest has no device element in R4.
        "supportingInformation": [_pump(change.pump)],
    }
    if blind:
        resource["note"].append({"text": "T12: the approved values are shown once the pump has been read back."})
    else:
        resource["dosageInstruction"] = _dosage(change)
    return [MedicationRequest.parse_obj(resource)]


# --- Provenance: the signature and the read-back -----------------------------------------------------------------


def _meaning_code(change: DoseChange) -> list[dict]:
    """D5: the signature's meaning as a code, from the label the recorded meaning starts with."""
    return [
        coding(SIGNATURE_MEANING, meaning.value, meaning.label)
        for meaning in SignatureMeaning
        if change.signature_meaning.startswith(meaning.label)
    ]


def _agent(kind: str, display: str, user) -> dict:
    return {"type": concept(PROVENANCE_PARTICIPANT_TYPE, kind, display), "who": staff_reference(user)}


def signature_provenance(change: DoseChange) -> Provenance:
    """T9/D5: the neurologist's signature, with its meaning as recorded (name, time and what was signed)."""
    return Provenance.parse_obj(
        {
            "id": resource_id("prov", change.pk, "signature"),
            "meta": meta(change),
            "target": [_request(change)],
            "occurredDateTime": instant(change.approved_at),
            "recorded": instant(change.approved_at),
            "activity": {
                "coding": [coding(PROVENANCE_ACTIVITY, "signature", "Signature of a dose change")],
                "text": change.signature_meaning,
            },
            "agent": [_agent("verifier", "Verifier", change.approved_by)],
            "signature": [
                {
                    "type": [VERIFICATION_SIGNATURE, *_meaning_code(change)],
                    "when": instant(change.approved_at),
                    "who": staff_reference(change.approved_by),
                }
            ],
        }
    )


def readback_provenance(change: DoseChange) -> Provenance:
    """T12: a second clinician, who neither programmed nor signed the change, read the pump back blind and it
    matched the signed program: from then on it was in force."""
    return Provenance.parse_obj(
        {
            "id": resource_id("prov", change.pk, "readback"),
            "meta": meta(change),
            "target": [_request(change)],
            "occurredDateTime": instant(change.read_back_at),
            "recorded": instant(change.read_back_at),
            "activity": {
                "coding": [coding(PROVENANCE_ACTIVITY, "read-back", "Independent read-back of the pump")],
                "text": "T12: independent blind read-back of the programmed pump; it matched the signed program.",
            },
            "agent": [
                _agent("verifier", "Verifier", change.read_back_by),
                _agent("performer", "Performer", change.programmed_by),
            ],
        }
    )


def provenances(change: DoseChange) -> list[Provenance]:
    if change.read_back_at is None:
        return [signature_provenance(change)]
    return [signature_provenance(change), readback_provenance(change)]


def signed_changes(user):
    """T9: the dose changes a neurologist signed, whatever became of them since, each with the strength its
    program is for (T15): its own new strength, else the one in force when it was signed or put in force (the
    latest earlier concentration change's, or the strength the first one changed from), else the pump's."""
    in_force = DoseChange.objects.filter(pump=OuterRef("pump"), state__in=WAS_IN_FORCE)
    with_strength = in_force.filter(concentration_mcg_per_ml__isnull=False).annotate(in_force_at=IN_FORCE_FROM)
    latest = with_strength.filter(in_force_at__lte=OuterRef("program_moment")).order_by("-in_force_at", "-id")
    first = with_strength.order_by("in_force_at", "id")
    strength = DecimalField(**STRENGTH)
    return (
        visible_dose_changes(user)
        .filter(approved_at__isnull=False)
        .annotate(program_moment=Coalesce("read_back_at", "programmed_at", "approved_at"))
        .annotate(
            concentration_then=Coalesce(
                "concentration_mcg_per_ml",
                Subquery(latest.values("concentration_mcg_per_ml")[:1]),
                Cast(Subquery(first.values(strength=KT("concentration_transition__from_mcg_per_ml"))[:1]), strength),
                F("pump__concentration_mcg_per_ml"),
                output_field=strength,
            )
        )
    )


# Every step after the signature changes the order: programmed, read back, superseded, rejected, pump taken out.
CHANGE_LAST_UPDATED = Greatest(
    "approved_at", "programmed_at", "read_back_at", "superseded_at", "rejected_at", "pump__explanted_at"
)


# --- MedicationAdministration: test doses and program periods ----------------------------------------------------


def test_dose_administration(dose) -> list[MedicationAdministration]:
    """S4: a bolus test dose as given, with its lot; D4: one entered in error is shown withdrawn."""
    resource = {
        "id": resource_id("testdose", dose.pk),
        "meta": meta(dose),
        "status": "entered-in-error" if dose.entered_in_error else "completed",
        "contained": [_baclofen(lot=dose.lot)],
        "medicationReference": {"reference": f"#{MEDICATION_ID}"},
        "subject": reference("Patient", resource_id("patient", dose.trial.patient_id)),
        "effectiveDateTime": instant(dose.administered_at),
        "performer": [{"actor": staff_reference(dose.given_by)}],
        "note": [{"text": f"V2 override: {dose.predose_override_reason}"}] if dose.predose_override_reason else [],
        "dosage": {
            "text": f"Test dose {dose.number}: {dose.dose_mcg} mcg in {dose.volume_ml} mL, "
            f"{dose.route.replace('_', ' ')}, injected over {dose.injection_seconds} s",
            "route": {**INTRATHECAL, "text": f"intrathecal ({dose.route.replace('_', ' ')})"},
            "dose": quantity(dose.dose_mcg, "mcg", "ug"),
        },
    }
    if dose.entered_in_error:
        resource["statusReason"] = [{"text": f"D4: entered in error: {dose.entered_in_error_reason}"}]
    return [MedicationAdministration.parse_obj(resource)]


def program_period(change: DoseChange) -> list[MedicationAdministration]:
    """R2: the pump delivered this program from when it came in force (T12: its read-back, else its programming)
    until the next program of the pump came in force, or the pump was taken out (T13)."""
    ended_at = change.next_in_force_at or change.pump.explanted_at
    return [
        MedicationAdministration.parse_obj(
            {
                "id": resource_id("program", change.pk),
                "meta": meta(change),
                "status": "in-progress" if ended_at is None else "completed",
                "contained": [_baclofen()],
                "medicationReference": {"reference": f"#{MEDICATION_ID}"},
                "subject": _patient(change),
                "effectivePeriod": {"start": instant(change.in_force_at), "end": instant(ended_at)},
                "performer": [{"actor": staff_reference(change.read_back_by or change.programmed_by)}],
                "request": _request(change),
                "device": [_pump(change.pump)],
                "dosage": {
                    "text": f"{change.new_daily_dose_mcg} mcg/day intrathecal by the pump",
                    "route": INTRATHECAL,
                    "rateQuantity": quantity(change.new_daily_dose_mcg, "mcg/day", "ug/d"),
                },
            }
        )
    ]


def programs_in_force(user):
    """R2: the changes that have been the program in force, each with when it came in force and when the next
    program of its pump did, in the same query. A correlated subquery rather than a window function (Lead): a window
    sees only the rows the query keeps, so reading one period by its id, or searching by _lastUpdated, would lose
    the next period and show an ended one in progress."""
    later = (
        DoseChange.objects.filter(pump=OuterRef("pump"), state__in=WAS_IN_FORCE)
        .annotate(at=IN_FORCE_FROM)
        .filter(Q(at__gt=OuterRef("in_force_at")) | Q(at=OuterRef("in_force_at"), id__gt=OuterRef("id")))
        .order_by("at", "id")
    )
    return (
        visible_dose_changes(user)
        .filter(state__in=WAS_IN_FORCE)
        .annotate(in_force_at=IN_FORCE_FROM)
        .annotate(next_in_force_at=Subquery(later.values("at")[:1]))
    )


SOURCES = [
    FhirSource(
        resource_type="MedicationRequest",
        prefix="change",
        visible=signed_changes,
        patient_path="pump__patient",
        last_updated=CHANGE_LAST_UPDATED,
        to_resources=medication_request,
        select_related=("approved_by",),
    ),
    FhirSource(
        resource_type="Provenance",
        prefix="prov",
        visible=signed_changes,
        patient_path="pump__patient",
        last_updated=Greatest("approved_at", "read_back_at"),
        to_resources=provenances,
        select_related=("approved_by", "read_back_by", "programmed_by"),
        # The signature, and the read-back once it happened (T12): Bundle.total counts both.
        resources_per_row=Case(When(read_back_at__isnull=True, then=Value(1)), default=Value(2)),
    ),
    FhirSource(
        resource_type="MedicationAdministration",
        prefix="testdose",
        visible=visible_test_doses,
        patient_path="trial__patient",
        last_updated=Greatest("entered_at", "entered_in_error_at"),
        to_resources=test_dose_administration,
        select_related=("trial", "given_by"),
    ),
    FhirSource(
        resource_type="MedicationAdministration",
        prefix="program",
        visible=programs_in_force,
        patient_path="pump__patient",
        # The period changes when it ends: the next program came in force, or the pump was taken out.
        last_updated=Coalesce("next_in_force_at", "pump__explanted_at", "in_force_at"),
        to_resources=program_period,
        select_related=("programmed_by", "read_back_by"),
    ),
]
