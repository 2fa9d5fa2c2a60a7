"""Patient record changes. Each is one transaction with its audit event (D1)."""

from datetime import date

from django.db import transaction
from django.forms.models import model_to_dict

from wardflow.audit.services import record_event
from wardflow.clinical_time import ward_today
from wardflow.errors import InvalidInput
from wardflow.policy import current_policy
from wardflow.staff.models import WARD_SCOPED_ROLES

from .kinds import AuditAction
from .models import Patient
from .selectors import flags_refusal
from .signals import patient_flags_changed

# The clinical flags and notes that may change after registration (api.md: PATCH for the flags).
FLAG_FIELDS = (
    "active_infection",
    "oral_antispasmodics",
    "renal_impairment",
    "sci_t6_or_above",
    "communication_difficulties",
    "history_of_withdrawal",
    "psychiatric_or_brain_disorder",
    "seizure_disorder",
    "autonomic_dysreflexia_history",
    "weight_kg",
)

# Which rule each flag feeds, cited on the audit event of its change.
FLAG_RULES = {
    "active_infection": "P1",
    "oral_antispasmodics": "P3",
    "sci_t6_or_above": "P4",
    "communication_difficulties": "P4",
    "history_of_withdrawal": "P4",
    "renal_impairment": "P5",
    "psychiatric_or_brain_disorder": "P5",
    "seizure_disorder": "P5",
    "autonomic_dysreflexia_history": "P5",
}


def patient_snapshot(patient: Patient) -> dict:
    data = model_to_dict(patient, exclude=["id"])
    data["ward"] = patient.ward.code
    return data


def _ensure_on_own_ward(actor, ward) -> None:
    if actor.role in WARD_SCOPED_ROLES and ward.pk not in actor.ward_ids:
        raise InvalidInput({"ward": [f"You are not assigned to ward {ward.code}; choose one of your wards."]})


def _birth_date_problem(date_of_birth: date) -> str | None:
    """Dates, times and input: a date of birth lies between the policy's earliest year and the ward's today."""
    earliest = date(current_policy().earliest_birth_year, 1, 1)
    if date_of_birth > ward_today():
        return "Date of birth cannot be in the future."
    if date_of_birth < earliest:
        return f"Date of birth {date_of_birth.isoformat()} is before {earliest.isoformat()}; check the year."
    return None


@transaction.atomic
def register_patient(*, actor, ward, **fields) -> Patient:
    _ensure_on_own_ward(actor, ward)
    if problem := _birth_date_problem(fields["date_of_birth"]):
        raise InvalidInput({"date_of_birth": [problem]})
    patient = Patient.objects.create(ward=ward, **fields)
    record_event(
        actor=actor,
        action=AuditAction.REGISTERED,
        patient=patient,
        subject=patient,
        after=patient_snapshot(patient),
        rules=sorted({FLAG_RULES[f] for f in FLAG_RULES if fields.get(f)}),
    )
    return patient


@transaction.atomic
def update_patient_flags(*, actor, patient: Patient, changes: dict, reason: str = "") -> Patient:
    """Chart a change of flags (e.g. an infection found or resolved, P1). Unchanged values write nothing."""
    if refusal := flags_refusal(actor):
        raise refusal
    unknown = set(changes) - set(FLAG_FIELDS)
    if unknown:
        raise InvalidInput({field: ["This field cannot be changed here."] for field in sorted(unknown)})
    patient = Patient.objects.select_for_update(of=("self",)).select_related("ward").get(pk=patient.pk)
    changed = {field: value for field, value in changes.items() if getattr(patient, field) != value}
    if not changed:
        return patient
    before = {field: getattr(patient, field) for field in changed}
    for field, value in changed.items():
        setattr(patient, field, value)
    patient.save(update_fields=list(changed))
    record_event(
        actor=actor,
        action=AuditAction.FLAGS_CHANGED,
        patient=patient,
        subject=patient,
        before=before,
        after=changed,
        rules=sorted({FLAG_RULES[f] for f in changed if f in FLAG_RULES}),
        reason=reason,
    )
    patient_flags_changed.send(sender=Patient, actor=actor, patient=patient, changed=changed)
    return patient
