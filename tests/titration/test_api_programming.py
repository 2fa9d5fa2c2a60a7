"""The neurologist's signature and the nurse's blind re-entry of the pump's program, through the HTTP API
(T9, T12); the independent read-back has its own tests (test_independent_readback.py)."""

from datetime import datetime
from decimal import Decimal

import pytest

from alerts.models import DueCheck
from tests.titration.support import approve, at, candidate_trial, implant, programmed, pump_of, record_programming
from titration.models import DoseChange, Pump
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_change_id(clock, team, nurse, neurologist, spinal_adult) -> int:
    """The implant's initial 100 mcg/day, signed, not yet programmed."""
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    change_id = implant(neuro, spinal_adult, trial).json()["initial_dose_change"]["id"]
    assert approve(neuro, change_id).status_code == 200
    return change_id


def test_initial_dose_signed_programmed_and_read_back_with_matching_blind_entries(clock, team, nurse, neurologist,
                                                                                  spinal_adult):  # fmt: skip
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    body = implant(neuro, spinal_adult, trial).json()
    change_id = body["initial_dose_change"]["id"]
    signed = approve(neuro, change_id)
    assert signed.status_code == 200
    assert signed.json()["state"] == "approved"
    assert signed.json()["signature_meaning"].startswith(f"Approved by {neurologist.display_name()} at ")
    clock.move_to(at(hours=0.5))
    done = programmed(nurse_client, change_id, at(hours=0.5), "100")
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "active"
    pump = pump_of(neuro, body["id"])
    assert pump["daily_dose_mcg"] == "100.00"
    assert pump["rate_ml_per_day"] == "0.200"
    # (20 mL - 2 mL) x 500 mcg/mL / 100 mcg/day = 90 days to the alarm; refill due 3 days before (R2)
    assert datetime.fromisoformat(pump["alarm_at"]) == at(days=90, hours=0.5)
    assert datetime.fromisoformat(pump["refill_due_at"]) == at(days=87, hours=0.5)
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="dose_change.")] == [
        "dose_change.approved",
        "dose_change.programmed",
        "dose_change.read_back",
    ]


@pytest.mark.parametrize(("dose", "strength"), [("4.17", "500"), ("100", "50")])  # mcg/hour for mcg/day; strength slip
def test_a_blind_entry_mismatch_is_refused_audited_and_changes_nothing_t12(clock, team, signed_change_id, dose,
                                                                           strength):  # fmt: skip
    nurse_client, _ = team
    clock.move_to(at(hours=1))
    response = record_programming(nurse_client, signed_change_id, at(hours=1), dose, strength)
    assert response.status_code == 409
    assert response.json()["rule"] == "T12"
    assert DoseChange.objects.get(pk=signed_change_id).state == "approved"
    assert Pump.objects.get().active_change is None
    assert not DueCheck.objects.filter(kind__startswith="titration.").exists()
    assert not AuditEvent.objects.filter(action="dose_change.programmed").exists()
    mismatch = AuditEvent.objects.get(action="dose_change.programming_mismatch")
    assert mismatch.rules == ["T12"] and Decimal(mismatch.after["entered_daily_dose_mcg"]) == Decimal(dose)


def test_a_matching_entry_records_the_programming_and_waits_for_the_read_back_t12(clock, team, nurse,
                                                                                  signed_change_id):  # fmt: skip
    nurse_client, _ = team
    response = record_programming(nurse_client, signed_change_id, at(), "100")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["programmed_by"]) == ("programmed", nurse.username)
    change = DoseChange.objects.get(pk=signed_change_id)
    assert (change.programmed_at, change.read_back_by) == (at(), None)
    assert Pump.objects.get().active_change is None
    assert not DueCheck.objects.filter(kind__startswith="titration.").exists()
    assert AuditEvent.objects.get(action="dose_change.programmed").after["state"] == "programmed"


def test_nothing_reaches_active_without_approval_t9(clock, team, nurse, neurologist, spinal_adult):
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    change_id = implant(neuro, spinal_adult, trial).json()["initial_dose_change"]["id"]
    clock.move_to(at(hours=1))
    response = programmed(nurse_client, change_id, at(hours=1), "100")
    assert response.status_code == 409
    assert DoseChange.objects.get(pk=change_id).state == "proposed"


def test_only_a_neurologist_signs_and_only_a_nurse_confirms_programming(clock, team, nurse, neurologist, spinal_adult):
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    change_id = implant(neuro, spinal_adult, trial).json()["initial_dose_change"]["id"]
    assert approve(nurse_client, change_id).status_code == 403
    approve(neuro, change_id)
    assert record_programming(neuro, change_id, at(hours=1), "100").status_code == 403
    assert DoseChange.objects.get(pk=change_id).state == "approved"


def test_a_mismatch_sent_with_an_idempotency_key_keeps_its_audit_event_t12(clock, team, signed_change_id):
    nurse_client, _ = team
    response = record_programming(nurse_client, signed_change_id, at(), "4.17", HTTP_IDEMPOTENCY_KEY="program-1")
    assert response.status_code == 409 and response.json()["rule"] == "T12"
    assert DoseChange.objects.get(pk=signed_change_id).state == "approved"
    assert AuditEvent.objects.filter(action="dose_change.programming_mismatch").count() == 1


def test_with_the_read_back_policy_off_the_programming_alone_activates_t12(clock, team, settings, signed_change_id):
    settings.WARDFLOW_POLICY = {"independent_readback": False}
    nurse_client, _ = team
    response = record_programming(nurse_client, signed_change_id, at(), "100")
    assert response.status_code == 200 and response.json()["state"] == "active"
    assert Pump.objects.get().active_change_id == signed_change_id
    assert Pump.objects.get().refill_due_at == at(days=87)
    assert not AuditEvent.objects.filter(action="dose_change.read_back").exists()
    assert AuditEvent.objects.get(action="dose_change.programmed").after["state"] == "active"
