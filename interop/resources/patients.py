"""Patient: who the records are about, identified by the hospital's medical record number."""

from django.conf import settings
from fhir.resources.patient import Patient as FhirPatient

from wardflow.patients.selectors import visible_patients

from .base import FhirSource, meta, resource_id


def patient_resources(patient) -> list[FhirPatient]:
    return [
        FhirPatient.parse_obj(
            {
                "id": resource_id("patient", patient.pk),
                "meta": meta(patient),
                "identifier": [{"use": "usual", "system": settings.FHIR_MRN_SYSTEM, "value": patient.mrn}],
                "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
                "birthDate": patient.date_of_birth,
                "managingOrganization": {"display": patient.ward.name},
            }
        )
    ]


SOURCES = [
    FhirSource(
        resource_type="Patient",
        prefix="patient",
        visible=visible_patients,
        # A patient is their own patient: $everything starts with them.
        patient_path="pk",
        # The resource shows only what registration wrote (the flags are not part of it).
        last_updated="created_at",
        to_resources=patient_resources,
        select_related=("ward",),
    )
]
