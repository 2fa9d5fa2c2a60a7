"""Patient services called directly: each change is one audited act; a refusal writes nothing."""

from datetime import date

import pytest

from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput
from wardflow.patients.kinds import AuditAction
from wardflow.patients.models import Patient
from wardflow.patients.services import register_patient, update_patient_flags

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "mrn": "MRN-9",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth": date(1972, 12, 10),
    "spasticity_origin": "spinal",
}


def test_registering_on_a_ward_the_nurse_is_not_on_is_refused_and_writes_nothing(nurse, other_ward):
    with pytest.raises(InvalidInput) as refusal:
        register_patient(actor=nurse, ward=other_ward, **REGISTRATION)
    assert "ward" in refusal.value.errors
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.REGISTERED).exists()


def test_registration_cites_the_rules_its_flags_feed_p4(nurse, ward):
    patient = register_patient(actor=nurse, ward=ward, sci_t6_or_above=True, **REGISTRATION)
    event = AuditEvent.objects.get(action=AuditAction.REGISTERED)
    assert event.patient_id == patient.pk and event.rules == ["P4"]
    assert patient.high_withdrawal_risk


def test_charting_an_infection_is_audited_under_p1(nurse, ward, make_patient):
    patient = make_patient(ward, "MRN-1")
    update_patient_flags(actor=nurse, patient=patient, changes={"active_infection": True}, reason="wound swab")
    event = AuditEvent.objects.get(action=AuditAction.FLAGS_CHANGED)
    assert (event.before, event.after, event.rules) == ({"active_infection": False}, {"active_infection": True}, ["P1"])
    assert Patient.objects.get(pk=patient.pk).active_infection


def test_an_unchanged_flag_writes_no_audit_event(nurse, ward, make_patient):
    patient = make_patient(ward, "MRN-1", active_infection=True)
    update_patient_flags(actor=nurse, patient=patient, changes={"active_infection": True})
    assert not AuditEvent.objects.filter(action=AuditAction.FLAGS_CHANGED).exists()


def test_a_field_that_is_not_a_flag_is_refused(nurse, ward, make_patient):
    patient = make_patient(ward, "MRN-1")
    with pytest.raises(InvalidInput) as refusal:
        update_patient_flags(actor=nurse, patient=patient, changes={"mrn": "OTHER"})
    assert "mrn" in refusal.value.errors
    assert Patient.objects.get(pk=patient.pk).mrn == "MRN-1"
