"""AuditEvent for each event of the audit trail (D1), after the IHE Basic Audit Log Patterns, each valid against the
FHIR R4 models; shown to whoever may read the REST audit list, as that list shows it."""

from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from interop.services.disclosure import record_fhir_read
from screening import services as screening
from tests.interop.pump_story import shown
from tests.titration.support import at
from wardflow.audit.models import AuditEvent
from wardflow.audit.services import record_policy_if_changed
from wardflow.staff.models import Role, User

pytestmark = pytest.mark.django_db

DICOM = "http://dicom.nema.org/resources/ontology/DCM"


def by_action(events: list[dict]) -> dict[str, dict]:
    return {e["subtype"][0]["code"]: e for e in events}


def details(entity: dict) -> dict[str, str]:
    return {d["type"]: d["valueString"] for d in entity["detail"]}


def test_every_event_of_the_patients_story_is_an_audit_event(pump, neurologist):
    events = shown("AuditEvent", "audit", neurologist)
    recorded = AuditEvent.objects.values_list("pk", flat=True)
    assert sorted(e["id"] for e in events) == sorted(f"audit-{pk}" for pk in recorded)
    assert {"test_dose.given", "pump.implanted", "dose_change.approved", "dose_change.read_back"} <= set(
        by_action(events)
    )


def test_an_act_on_the_record_names_who_when_the_patient_the_record_and_its_chain_link_d1(pump, neurologist):
    recorded = AuditEvent.objects.get(action="pump.implanted")
    event = by_action(shown("AuditEvent", "audit", neurologist))["pump.implanted"]
    assert event["type"] == {"system": DICOM, "code": "110110", "display": "Patient Record"}
    assert (event["action"], event["outcome"]) == ("C", "0")
    assert event["recorded"] == recorded.entered_at.isoformat()
    assert event["period"] == {"start": recorded.at.isoformat(), "end": recorded.at.isoformat()}
    (agent,) = event["agent"]
    assert agent["who"]["identifier"]["value"] == neurologist.username
    assert (agent["role"], agent["requestor"]) == ([{"text": "neurologist"}], True)
    assert event["source"]["observer"] == {"display": "WardFlow"}
    patient_entity, record = event["entity"]
    assert patient_entity["what"]["reference"] == f"Patient/patient-{pump.patient_id}"
    assert patient_entity["role"]["code"] == "1"
    assert record["what"]["reference"] == f"Device/pump-{pump.pk}"
    assert record["what"]["identifier"] == {"system": "urn:wardflow:fhir/record/titration.pump", "value": str(pump.pk)}
    assert details(record) == {
        "hash": recorded.hash,
        "previous-hash": recorded.prev_hash,
        "protocol-version": recorded.protocol_version,
        "rules": " ".join(recorded.rules),
    }


def chart(nurse, patient, hour):
    with time_machine.travel(at(hours=hour), tick=False):
        return screening.chart_observation(
            actor=nurse,
            patient=patient,
            observed_at=at(hours=hour),
            ashworth_mean=Decimal("2"),
            penn_spasm_frequency=Decimal("2"),
            heart_rate=Decimal("70"),
            systolic_bp=Decimal("120"),
            diastolic_bp=Decimal("80"),
            respiratory_rate=Decimal("14"),
            spo2=Decimal("98"),
            temperature_c=Decimal("36.8"),
            sedation="alert",
        )


def test_the_action_code_follows_the_kind_of_act(pump, neurologist, nurse):
    observation = chart(nurse, pump.patient, 1)
    screening.mark_observation_entered_in_error(actor=nurse, observation=observation, reason="wrong patient")
    events = by_action(shown("AuditEvent", "audit", neurologist))
    kinds = ["test_dose.given", "dose_change.approved", "dose_change.read_back", "observation.entered_in_error"]
    assert [events[kind]["action"] for kind in kinds] == ["C", "U", "U", "D"]
    assert (
        events["observation.entered_in_error"]["entity"][1]["what"]["reference"] == f"Observation/obs-{observation.pk}"
    )


def test_a_disclosure_through_the_fhir_api_is_a_restful_read(pump, neurologist):
    with transaction.atomic():
        record_fhir_read(actor=neurologist, patient=pump.patient, resource_type="Patient", query={}, count=1)
    event = by_action(shown("AuditEvent", "audit", neurologist))["fhir.records_read"]
    assert event["type"]["code"] == "rest"
    assert event["action"] == "R"


def test_a_system_event_about_no_patient_is_application_activity_by_wardflow(settings, administrator):
    settings.WARDFLOW_POLICY = {"independent_readback": False}
    assert record_policy_if_changed()
    (event,) = shown("AuditEvent", "audit", administrator)
    assert event["type"]["code"] == "110100"
    assert event["agent"][0]["who"] == {"display": "WardFlow (system)"}
    assert [e["role"]["code"] for e in event["entity"]] == ["4"]
    assert details(event["entity"][0])["reason"].startswith("Protocol policy in force")


def test_the_trail_is_shown_as_the_rest_audit_list_shows_it(pump, nurse, administrator, make_staff, other_ward):
    stranger = make_staff(Role.NEUROLOGIST, other_ward)
    everything = AuditEvent.objects.count()
    assert len(shown("AuditEvent", "audit", administrator)) == everything
    assert shown("AuditEvent", "audit", stranger) == []
    assert shown("AuditEvent", "audit", nurse) == []  # the REST audit list refuses nurses


@pytest.mark.parametrize("steps", [0, 3])
def test_listing_costs_the_same_queries_for_few_or_many_events(pump, neurologist, nurse, steps,
                                                               django_assert_num_queries):  # fmt: skip
    for step in range(steps):
        chart(nurse, pump.patient, step + 1)
    neurologist = User.objects.get(pk=neurologist.pk)  # the caller's role and wards are read once per request
    # One query for the events, and one each for the caller's role and wards.
    with django_assert_num_queries(3):
        shown("AuditEvent", "audit", neurologist)
