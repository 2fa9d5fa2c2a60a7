"""AuditEvent for each event of the audit trail (D1-D3), after the IHE Basic Audit Log Patterns (BALP): the
WardFlow action as subtype, the acting user as the requesting agent, WardFlow as the observing source, the patient
and the record acted on as entities, and the chain link (hash, previous hash) with the rule ids as entity details."""

from fhir.resources.auditevent import AuditEvent

from wardflow.audit.models import AuditEvent as TrailEvent
from wardflow.audit.selectors import visible_events
from wardflow.staff.models import Role

from .base import FhirSource, meta, resource_id
from .coding import (
    AUDIT_ENTITY_TYPE,
    AUDIT_EVENT_TYPE,
    DICOM,
    OBJECT_ROLE,
    coding,
    instant,
    local_system,
    reference,
    staff_reference,
)

AUDIT_ACTION = local_system("audit-action")
AUDIT_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
SUBJECT_RECORD = local_system("record")

# AuditEvent.action by the verb of the WardFlow action (its last part): Create, Read, Update, Delete (D4: a record
# entered in error is withdrawn, never removed) or Execute (checks, signatures refused, alerts sent on).
ACTION_CODES = {
    "C": {"registered", "created", "added", "opened", "given", "charted", "assessed", "proposed", "implanted",
          "replaced", "recorded", "raised"},
    "R": {"records_read"},
    "U": {"flags_changed", "phase_changed", "approved", "rejected", "programmed", "read_back", "overridden",
          "suspended", "resumed", "cancelled", "acknowledged", "resolved", "explanted", "in_force"},
    "D": {"entered_in_error"},
}  # fmt: skip
ACTION_CODE = {verb: code for code, verbs in ACTION_CODES.items() for verb in verbs}

# The records an event names that the FHIR API serves under the same id in every state.
SUBJECT_RESOURCES = {
    "patients.patient": ("Patient", "patient"),
    "titration.pump": ("Device", "pump"),
    "titration.refill": ("Procedure", "refill"),
    "screening.testdose": ("MedicationAdministration", "testdose"),
    "screening.observation": ("Observation", "obs"),
}


def action_code(action: str) -> str:
    return ACTION_CODE.get(action.rpartition(".")[2], "E")


def _event_type(event) -> dict:
    """BALP: a disclosure through the FHIR API is a RESTful operation; an act on a patient's record is DICOM
    110110 Patient Record; anything else (wards, staff, policy, signatures refused) is 110100 Application
    Activity."""
    if action_code(event.action) == "R":
        return coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation")
    if event.patient_id is not None:
        return coding(DICOM, "110110", "Patient Record")
    return coding(DICOM, "110100", "Application Activity")


def _detail(kind: str, value: str) -> dict:
    return {"type": kind, "valueString": value}


def _record_entity(event) -> dict:
    """The record the event is about, with the event's link in the chain (D2) and the rules it applied; an event
    about no record (a ward, a policy) names itself."""
    if event.subject_type:
        what = {"identifier": {"system": f"{SUBJECT_RECORD}/{event.subject_type}", "value": event.subject_id}}
        if served := SUBJECT_RESOURCES.get(event.subject_type):
            resource_type, prefix = served
            what |= reference(resource_type, resource_id(prefix, int(event.subject_id)))
    else:
        what = {"identifier": {"system": f"{SUBJECT_RECORD}/audit.auditevent", "value": str(event.pk)}}
    details = [
        _detail("hash", event.hash),
        _detail("previous-hash", event.prev_hash),
        _detail("protocol-version", event.protocol_version),
    ]
    if event.rules:
        details.append(_detail("rules", " ".join(event.rules)))
    if event.reason:
        details.append(_detail("reason", event.reason))
    return {
        "what": what,
        "type": coding(AUDIT_ENTITY_TYPE, "2", "System Object"),
        "role": coding(OBJECT_ROLE, "4", "Domain Resource"),
        "detail": details,
    }


def audit_event(event) -> list[AuditEvent]:
    entities = []
    if event.patient_id is not None:
        entities.append(
            {
                "what": reference("Patient", resource_id("patient", event.patient_id)),
                "type": coding(AUDIT_ENTITY_TYPE, "1", "Person"),
                "role": coding(OBJECT_ROLE, "1", "Patient"),
            }
        )
    entities.append(_record_entity(event))
    return [
        AuditEvent.parse_obj(
            {
                "id": resource_id("audit", event.pk),
                "meta": meta(event),
                "type": _event_type(event),
                "subtype": [coding(AUDIT_ACTION, event.action)],
                "action": action_code(event.action),
                "recorded": instant(event.entered_at),
                # The clinical time of what was recorded, which may precede its entry (charted afterwards).
                "period": {"start": instant(event.at), "end": instant(event.at)},
                "outcome": "0",
                "agent": [
                    {
                        "who": staff_reference(event.actor),
                        "role": [{"text": event.role}],
                        "requestor": True,
                    }
                ],
                "source": {
                    "site": "WardFlow",
                    "observer": {"display": "WardFlow"},
                    "type": [coding(AUDIT_SOURCE_TYPE, "4", "Application Server")],
                },
                "entity": entities,
            }
        )
    ]


# Who may read the audit trail through the REST API (GET /api/v1/audit-events/); nurses may not.
TRAIL_READERS = (Role.ADMINISTRATOR, Role.NEUROLOGIST)


def audit_trail(user):
    """D1: the events the REST audit list shows the user: administrators every one, neurologists their wards'."""
    if getattr(user, "role", None) not in TRAIL_READERS:
        return TrailEvent.objects.none()
    return visible_events(user)


SOURCES = [
    FhirSource(
        resource_type="AuditEvent",
        prefix="audit",
        visible=audit_trail,
        patient_path="patient",
        last_updated="entered_at",
        to_resources=audit_event,
        select_related=("actor",),
    ),
]
