"""Observation for each charted observation (S5): the vital signs with their LOINC codes, the Modified Ashworth
Scale and Penn spasm frequency as components of one panel, and NEWS2 (V1) as a second Observation derived from it.
The Penn scale has no standard code: it is a WardFlow CodeSystem, served at CodeSystem/penn-spasm-frequency."""

from decimal import Decimal

from django.db.models import Case, When
from django.db.models.functions import Greatest
from fhir.resources.codesystem import CodeSystem
from fhir.resources.observation import Observation as FhirObservation

from screening.selectors import visible_observations
from wardflow.protocol import NEWS2_LABELS

from .base import FhirSource, meta, resource_id
from .coding import (
    LOINC,
    OBSERVATION_CATEGORY,
    SNOMED,
    coding,
    concept,
    local_system,
    quantity,
    reference,
    staff_reference,
)

PENN_CODE_SYSTEM_ID = "penn-spasm-frequency"
PENN_SYSTEM = local_system("CodeSystem/penn-spasm-frequency")
# The Penn Spasm Frequency Scale, scored 0-4 (S5).
PENN_SCORES = {
    "0": "No spasms",
    "1": "Spasms induced only by stimulation",
    "2": "Spontaneous spasms less often than once an hour",
    "3": "Spontaneous spasms more often than once an hour",
    "4": "Spontaneous spasms more often than ten times an hour",
}
NEWS2_CODE = concept(
    SNOMED,
    "1104051000000101",
    "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
)
NEWS2_RISK_SYSTEM = local_system("news2-risk")
OBSERVATION_PARAMETER = local_system("observation-parameter")
VITAL_SIGNS = [concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]


def penn_code_system() -> CodeSystem:
    return CodeSystem.parse_obj(
        {
            "id": PENN_CODE_SYSTEM_ID,
            "url": PENN_SYSTEM,
            "name": "PennSpasmFrequency",
            "title": "Penn spasm frequency",
            "status": "active",
            "caseSensitive": True,
            "content": "complete",
            "description": "Penn Spasm Frequency Scale as charted on WardFlow observations (protocol rule S5).",
            "concept": [{"code": code, "display": display} for code, display in PENN_SCORES.items()],
        }
    )


def _value_quantity(value: Decimal, unit: str, code: str | None = None) -> dict:
    return {"valueQuantity": quantity(value, unit, code)}


def _penn_value(value: Decimal) -> dict:
    """A whole score is a concept of the scale; a value between two (allowed by S5's 0-4 range) stays a number."""
    if value == value.to_integral_value():
        code = str(int(value))
        return {"valueCodeableConcept": concept(PENN_SYSTEM, code, PENN_SCORES[code])}
    return _value_quantity(value, "{score}")


def _components(observation) -> list[dict]:
    return [
        {"code": concept(LOINC, "8867-4", "Heart rate"), **_value_quantity(observation.heart_rate, "/min")},
        {
            "code": concept(LOINC, "8480-6", "Systolic blood pressure"),
            **_value_quantity(observation.systolic_bp, "mmHg", "mm[Hg]"),
        },
        {
            "code": concept(LOINC, "8462-4", "Diastolic blood pressure"),
            **_value_quantity(observation.diastolic_bp, "mmHg", "mm[Hg]"),
        },
        {"code": concept(LOINC, "9279-1", "Respiratory rate"), **_value_quantity(observation.respiratory_rate, "/min")},
        {
            "code": {
                "coding": [
                    coding(LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                    coding(LOINC, "2708-6", "Oxygen saturation in Arterial blood"),
                ]
            },
            **_value_quantity(observation.spo2, "%"),
        },
        {
            "code": concept(OBSERVATION_PARAMETER, "on-oxygen", "Supplemental oxygen"),
            "valueBoolean": observation.on_oxygen,
        },
        {"code": concept(LOINC, "8310-5", "Body temperature"), **_value_quantity(observation.temperature_c, "Cel")},
        {
            # S5: the mean score of the limbs assessed (1+ stored as 1.5).
            "code": concept(SNOMED, "765771006", "Modified Ashworth scale"),
            **_value_quantity(observation.ashworth_mean, "{score}"),
        },
        {
            "code": concept(OBSERVATION_PARAMETER, "penn-spasm-frequency", "Penn spasm frequency"),
            **_penn_value(observation.penn_spasm_frequency),
        },
        {
            "code": concept(OBSERVATION_PARAMETER, "sedation", "Sedation level"),
            "valueCodeableConcept": concept(local_system("sedation"), observation.sedation, observation.sedation),
        },
        *(
            {
                "code": concept(OBSERVATION_PARAMETER, "adverse-sign", "Adverse sign"),
                "valueCodeableConcept": concept(local_system("adverse-sign"), sign, sign.replace("_", " ")),
            }
            for sign in observation.signs
        ),
    ]


def _common(observation) -> dict:
    """What the panel and its NEWS2 share: status (D4), subject, time, who charted it."""
    return {
        "meta": meta(observation),
        # D4: a withdrawn record is still sent, so that a system that pulled it learns it was withdrawn.
        "status": "entered-in-error" if observation.entered_in_error else "final",
        "category": VITAL_SIGNS,
        "subject": reference("Patient", resource_id("patient", observation.patient_id)),
        "effectiveDateTime": observation.observed_at,
        "issued": observation.entered_at,
        "performer": [staff_reference(observation.charted_by)],
    }


def _notes(observation) -> list[dict]:
    notes = []
    if observation.late_reason:
        notes.append({"text": f"Charted late (A1): {observation.late_reason}"})
    if observation.entered_in_error:
        notes.append({"text": f"Entered in error (D4): {observation.entered_in_error_reason}"})
    return notes


def observation_resources(observation) -> list[FhirObservation]:
    panel_id = resource_id("obs", observation.pk)
    resources = [
        FhirObservation.parse_obj(
            {
                "id": panel_id,
                **_common(observation),
                "code": concept(
                    LOINC,
                    "85353-1",
                    "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel",
                ),
                "component": _components(observation),
                **({"note": notes} if (notes := _notes(observation)) else {}),
            }
        )
    ]
    # V1: the score as computed when charted; observations charted before V1 have none.
    if observation.news2_score is not None:
        resources.append(
            FhirObservation.parse_obj(
                {
                    "id": resource_id("obs", observation.pk, "news2"),
                    **_common(observation),
                    "code": NEWS2_CODE,
                    "valueInteger": observation.news2_score,
                    "interpretation": [
                        concept(NEWS2_RISK_SYSTEM, observation.news2_risk, observation.news2_risk.replace("_", " "))
                    ],
                    "derivedFrom": [reference("Observation", panel_id)],
                    "component": [
                        {
                            "code": concept(OBSERVATION_PARAMETER, f"news2-{name}", f"NEWS2 {NEWS2_LABELS[name]}"),
                            "valueInteger": points,
                        }
                        for name, points in observation.news2_parameters.items()
                    ],
                }
            )
        )
    return resources


SOURCES = [
    FhirSource(
        resource_type="Observation",
        prefix="obs",
        visible=visible_observations,
        patient_path="patient",
        # Charting, then marking entered in error (D4), are the only writes to an observation.
        last_updated=Greatest("entered_at", "entered_in_error_at"),
        to_resources=observation_resources,
        select_related=("charted_by",),
        resources_per_row=Case(When(news2_score__isnull=True, then=1), default=2),
    )
]
