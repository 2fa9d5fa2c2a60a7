"""The independent double check of a pump's programming, through the HTTP API as the real roles (T12, policy
`independent_readback`): one nurse programs the signed change and records it blind, a second clinician of the ward
who neither programmed nor signed it reads the pump back blind, and only then is the change active. Neither of them
ever receives the approved values."""

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from alerts.models import DueCheck
from tests.titration.support import approve, at, propose, pump_of, read_back, record_programming
from titration import selectors
from titration.models import DoseChange, Pump
from wardflow import protocol
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

APPROVED = "123.45"  # the signed daily dose: an unusual figure, so that finding it anywhere in an answer means a leak
NIGHT = [{"start": "00:00", "percent": "100"}, {"start": "20:00", "percent": "120"}]


@pytest.fixture
def reader(api_as, second_nurse):
    return api_as(second_nurse)


def signed_step(clock, team, pump_id, dose=APPROVED, **extra) -> int:
    """A titration step from the active 100 mcg/day, signed at T0 (programmable from day 1)."""
    nurse_client, neuro = team
    change_id = propose(nurse_client, pump_id, dose, **extra).json()["id"]
    assert approve(neuro, change_id).status_code == 200
    clock.move_to(at(days=1))
    return change_id


@pytest.fixture
def programmed_step(clock, team, running_pump) -> int:
    """The step, programmed and recorded by the nurse at day 1, waiting for its read-back."""
    change_id = signed_step(clock, team, running_pump)
    response = record_programming(team[0], change_id, at(days=1), APPROVED)
    assert response.status_code == 200 and response.json()["state"] == "programmed"
    return change_id


def no_read_back_happened(change_id, initial_id=None):
    change = DoseChange.objects.get(pk=change_id)
    assert (change.state, change.read_back_by, change.read_back_at) == ("programmed", None, None)
    assert Pump.objects.get().active_change.new_daily_dose_mcg == 100
    assert not AuditEvent.objects.filter(action="dose_change.read_back", subject_id=str(change_id)).exists()


def test_the_programmer_cannot_read_back_their_own_programming_t12(clock, team, programmed_step):
    response = read_back(team[0], programmed_step, at(days=1), APPROVED)
    assert response.status_code == 403 and response.json()["rule"] == "T12"
    no_read_back_happened(programmed_step)


def test_the_signer_cannot_read_back_the_change_they_signed_t12(clock, team, programmed_step):
    response = read_back(team[1], programmed_step, at(days=1), APPROVED)
    assert response.status_code == 403 and response.json()["rule"] == "T12"
    no_read_back_happened(programmed_step)


def test_a_second_neurologist_of_the_ward_may_read_back_t12(clock, api_as, second_neurologist, programmed_step):
    response = read_back(api_as(second_neurologist), programmed_step, at(days=1), APPROVED)
    assert response.status_code == 200 and response.json()["state"] == "active"


def test_the_reader_never_receives_the_approved_values_t12(clock, team, reader, running_pump):
    change_id = signed_step(clock, team, running_pump, segments=NIGHT)
    answers = [record_programming(team[0], change_id, at(days=1), APPROVED, segments=NIGHT)]
    answers.append(reader.get(f"/api/v1/pumps/{running_pump}/"))
    answers.append(read_back(reader, change_id, at(days=1), "100", segments=NIGHT))  # the active dose: refused
    answers.append(read_back(reader, change_id, at(days=1), APPROVED, segments=NIGHT))
    assert [a.status_code for a in answers] == [200, 200, 409, 200]
    for answer in answers:
        text = json.dumps(answer.json())
        assert APPROVED not in text and "20:00" not in text and "23.5" not in text  # dose, segment, percent
    waiting = next(c for c in answers[1].json()["dose_changes"] if c["id"] == change_id)
    assert waiting["state"] == "programmed"
    assert (waiting["new_daily_dose_mcg"], waiting["segments"], waiting["percent_change"]) == (None, None, None)
    for answer in (answers[0], answers[3]):
        assert "new_daily_dose_mcg" not in answer.json() and "segments" not in answer.json()
    assert DoseChange.objects.get(pk=change_id).state == "active"


def test_the_programmer_and_the_signer_still_see_the_values_they_entered_and_signed_t12(clock, team, programmed_step,
                                                                                        running_pump):  # fmt: skip
    for client in team:
        waiting = next(c for c in pump_of(client, running_pump)["dose_changes"] if c["id"] == programmed_step)
        assert waiting["new_daily_dose_mcg"] == APPROVED


def test_a_readers_mismatch_is_refused_audited_and_changes_nothing_t12(clock, reader, programmed_step):
    response = read_back(reader, programmed_step, at(days=1), "1234.5")
    assert response.status_code == 409 and response.json()["rule"] == "T12"
    no_read_back_happened(programmed_step)
    mismatch = AuditEvent.objects.get(action="dose_change.read_back_mismatch")
    assert (mismatch.actor_username, Decimal(mismatch.after["entered_daily_dose_mcg"])) == ("noor", Decimal("1234.5"))
    assert mismatch.rules == ["T12"]
    assert not AuditEvent.objects.filter(action="dose_change.programming_mismatch").exists()


def test_a_matching_read_back_puts_the_change_in_force_with_both_people_audited_t12(clock, nurse, reader,
                                                                                    programmed_step):  # fmt: skip
    clock.move_to(at(days=1, hours=2))
    response = read_back(reader, programmed_step, at(days=1, hours=2), APPROVED)
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["read_back_by"]) == ("active", "noor")
    pump = Pump.objects.get()
    assert pump.active_change_id == programmed_step
    previous = DoseChange.objects.get(kind="initial")
    assert (previous.state, previous.superseded_at) == ("superseded", at(days=1, hours=2))
    # R2 from the read-back: 100 mcg/day ran until then (26 h), the new program from then on.
    volume = selectors.estimated_volume(pump, at(days=1, hours=2))
    assert volume == Decimal("20") - Decimal("100") * Decimal(26) / Decimal(24) / Decimal("500")
    alarm_at = protocol.alarm_time(at(days=1, hours=2), volume, Decimal("2"), Decimal("500"), Decimal(APPROVED))
    assert (pump.alarm_at, pump.refill_due_at) == (alarm_at, alarm_at - timedelta(days=3))
    step = DueCheck.objects.get(kind="titration.step_due", state="pending")
    assert step.due_at == at(days=2, hours=2)
    event = AuditEvent.objects.get(action="dose_change.read_back", subject_id=str(programmed_step))
    assert (event.actor_username, event.at) == ("noor", at(days=1, hours=2))
    assert (event.after["programmed_by"], event.after["read_back_by"]) == (nurse.username, "noor")
    assert event.after["state"] == "active" and {"T9", "T12"} <= set(event.rules)


def test_a_read_back_before_the_programming_is_refused_t12(clock, reader, programmed_step):
    response = read_back(reader, programmed_step, at(days=1) - timedelta(minutes=5), APPROVED)
    assert response.status_code == 409 and response.json()["rule"] == "T12"
    no_read_back_happened(programmed_step)


def test_a_change_not_yet_programmed_cannot_be_read_back_t12(clock, team, reader, running_pump):
    change_id = signed_step(clock, team, running_pump)
    response = read_back(reader, change_id, at(days=1), APPROVED)
    assert response.status_code == 409 and response.json()["rule"] == "T12"
    assert DoseChange.objects.get(pk=change_id).state == "approved"


def test_a_segments_mismatch_is_refused_at_programming_and_at_read_back_t12(clock, team, reader, running_pump):
    change_id = signed_step(clock, team, running_pump, segments=NIGHT)
    flat = record_programming(team[0], change_id, at(days=1), APPROVED)  # the night segment not read back
    assert flat.status_code == 409 and flat.json()["rule"] == "T12"
    assert DoseChange.objects.get(pk=change_id).state == "approved"
    assert AuditEvent.objects.filter(action="dose_change.programming_mismatch").count() == 1
    assert record_programming(team[0], change_id, at(days=1), APPROVED, segments=NIGHT).status_code == 200
    shifted = [{"start": "00:00", "percent": "100"}, {"start": "21:00", "percent": "120"}]
    response = read_back(reader, change_id, at(days=1), APPROVED, segments=shifted)
    assert response.status_code == 409 and response.json()["rule"] == "T12"
    no_read_back_happened(change_id)
    entered = AuditEvent.objects.get(action="dose_change.read_back_mismatch").after["entered_segments"]
    assert [(s["start"], Decimal(s["percent"])) for s in entered] == [("00:00", 100), ("21:00", 120)]


def test_with_the_policy_off_programmed_activates_and_there_is_nothing_to_read_back_t12(clock, team, settings, reader,
                                                                                       running_pump):  # fmt: skip
    settings.WARDFLOW_POLICY = {"independent_readback": False}
    change_id = signed_step(clock, team, running_pump)
    response = record_programming(team[0], change_id, at(days=1), APPROVED)
    assert response.status_code == 200 and response.json()["state"] == "active"
    assert Pump.objects.get().active_change_id == change_id
    late = read_back(reader, change_id, at(days=1), APPROVED)
    assert late.status_code == 409 and late.json()["rule"] == "T12"
    assert not AuditEvent.objects.filter(action="dose_change.read_back", subject_id=str(change_id)).exists()


def test_a_reduction_rejects_a_change_waiting_for_its_read_back_t6(clock, team, reader, programmed_step, running_pump):
    reduction = propose(team[1], running_pump, "85", kind="adverse_effect_reduction")
    assert reduction.status_code == 201, reduction.json()
    assert DoseChange.objects.get(pk=programmed_step).state == "rejected"
    assert read_back(reader, programmed_step, at(days=1), APPROVED).status_code == 409
    rejected = AuditEvent.objects.get(action="dose_change.rejected", subject_id=str(programmed_step))
    assert rejected.before == {"state": "programmed"} and rejected.rules == ["T6"]


def test_the_change_in_force_is_dated_by_its_read_back_for_the_next_step_t3(clock, team, reader, programmed_step,
                                                                            running_pump):  # fmt: skip
    clock.move_to(at(days=1, hours=3))
    assert read_back(reader, programmed_step, at(days=1, hours=3), APPROVED).status_code == 200
    nxt = propose(team[0], running_pump, "140").json()
    assert datetime.fromisoformat(nxt["earliest_at"]) == at(days=2, hours=3)
