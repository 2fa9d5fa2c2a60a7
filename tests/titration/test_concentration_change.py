"""A concentration change at a refill through the HTTP API, as the ward does it (T15, T9, T12, R2, R6): the nurse
refills at the new strength with the new program, the neurologist signs acknowledging the transition warning, a
nurse programs the pump and a second nurse reads it back; then the pump runs at the new strength. Refusals write
nothing."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from tests.titration.support import (
    approve,
    at,
    candidate_trial,
    implant,
    pump_of,
    read_back,
    record_programming,
    refill,
)
from tests.web.support import logged_in
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
# R6/A1: the observation alerts after a refill (the screening trial before the implant has its own).
REFILL_OBSERVATION_ALERTS = Alert.objects.filter(
    kind="observation_overdue", source_check__kind="titration.observation_after_refill"
)
TO_2000 = {"new_program": {"new_daily_dose_mcg": "100"}}


@pytest.fixture
def pump_id(clock, team, reader, nurse, neurologist, spinal_adult):
    """An adult spinal patient's pump of 500 mcg/mL with 0.2 mL of dead space, 100 mcg/day in force since T0."""
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    body = implant(neuro, spinal_adult, trial, dead_space_ml="0.2").json()
    change_id = body["initial_dose_change"]["id"]
    assert approve(neuro, change_id).status_code == 200
    assert record_programming(nurse_client, change_id, at(), "100").status_code == 200
    assert read_back(reader, change_id, at(), "100").status_code == 200
    clock.move_to(at(days=80))
    return body["id"]


@pytest.fixture
def reader(api_as, second_nurse):
    return api_as(second_nurse)


def assert_no_refill_written():
    assert not Refill.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="refill.").exists()
    assert not DoseChange.objects.exclude(kind="initial").exists()
    assert not DueCheck.objects.filter(kind="titration.observation_after_refill").exists()


def test_a_new_strength_at_a_refill_proposes_its_program_with_the_transition_t15(team, pump_id):
    response = refill(team[0], pump_id, at(days=80), removed="4.0", strength="2000", **TO_2000)
    assert response.status_code == 201, response.json()
    body = response.json()
    change = body["dose_change"]
    assert (change["kind"], change["state"], change["new_daily_dose_mcg"]) == ("concentration_change", "proposed",
                                                                                "100.00")  # fmt: skip
    assert Decimal(change["concentration_mcg_per_ml"]) == 2000
    # 0.2 mL at 100 / 2000 = 0.05 mL/day lasts 4 days; meanwhile 500 x 0.05 = 25 mcg/day, a quarter of the dose.
    assert body["transition"]["hours"] == "96.0" and body["transition"]["daily_dose_mcg_during"] == "25.00"
    assert body["transition"]["warning"].startswith("T15: for about 96.0 h")
    assert change["warnings"] == [body["transition"]["warning"]]
    assert change["concentration_transition"] == body["transition"]
    assert change["refill"] == Refill.objects.get().pk
    assert body["dose_changes"][0]["id"] == change["id"]  # the pump's history holds the new proposal
    assert Decimal(body["concentration_mcg_per_ml"]) == 500  # the pump's strength changes once the program is in force
    assert "T15" in AuditEvent.objects.get(action="dose_change.proposed").rules
    assert "T15" in AuditEvent.objects.get(action="refill.recorded").rules


def test_while_the_new_program_is_pending_the_refill_date_follows_the_faster_program_r2_t15(team, pump_id):
    refill(team[0], pump_id, at(days=80), removed="4.0", strength="2000", **TO_2000)
    # The pump still runs 0.2 mL/day (100 mcg/day for 500 mcg/mL), faster than the pending 0.05 mL/day.
    assert Pump.objects.get().refill_due_at == at(days=80 + 87)


def test_signing_without_acknowledging_the_transition_warning_is_refused_t15(team, pump_id):
    nurse_client, neuro = team
    change = refill(nurse_client, pump_id, at(days=80), strength="2000", **TO_2000).json()["dose_change"]
    response = approve(neuro, change["id"])
    assert response.status_code == 409 and response.json()["rule"] == "T15"
    assert DoseChange.objects.get(pk=change["id"]).state == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.approved", subject_id=str(change["id"])).exists()


def test_signed_programmed_and_read_back_the_pump_runs_at_the_new_strength_t15(clock, team, reader, pump_id):
    nurse_client, neuro = team
    change = refill(nurse_client, pump_id, at(days=80), removed="4.0", strength="2000", **TO_2000).json()
    change_id = change["dose_change"]["id"]
    signed = approve(neuro, change_id, acknowledge_warnings=True)
    assert signed.status_code == 200 and signed.json()["warnings_acknowledged"]
    assert "T15" in AuditEvent.objects.get(action="dose_change.approved", subject_id=str(change_id)).rules
    when = at(days=80, hours=0.5)
    clock.move_to(when)
    # T12: the blind re-entry is checked against the new strength.
    assert record_programming(nurse_client, change_id, when, "100", strength="500").status_code == 409
    assert record_programming(nurse_client, change_id, when, "100", strength="2000").status_code == 200
    assert read_back(reader, change_id, when, "100", strength="2000").status_code == 200
    pump = pump_of(nurse_client, pump_id)
    assert DoseChange.objects.get(pk=change_id).state == "active"
    assert Decimal(pump["concentration_mcg_per_ml"]) == 2000
    assert pump["rate_ml_per_day"] == "0.050"  # 100 mcg/day / 2000 mcg/mL
    # R2 from the refill's 20 mL: 0.5 h at the old 0.2 mL/day used 0.2/48 mL, then (20 - 0.2/48 - 2) / 0.05 days.
    alarm = datetime.fromisoformat(pump["alarm_at"])
    assert abs(alarm - (at(days=80 + 360) - timedelta(hours=1.5))) < timedelta(seconds=1)
    assert datetime.fromisoformat(pump["refill_due_at"]) == alarm - timedelta(days=3)
    in_force = AuditEvent.objects.get(action="dose_change.read_back", subject_id=str(change_id))
    assert in_force.before["concentration_mcg_per_ml"] == "500.0" and "T15" in in_force.rules
    assert in_force.after["concentration_mcg_per_ml"] == "2000.0"


def test_a_new_strength_without_its_new_program_is_refused_and_writes_nothing_t15(team, pump_id):
    response = refill(team[0], pump_id, at(days=80), strength="2000")
    assert response.status_code == 400
    assert response.json()["rule"] == "T15" and "new_program" in response.json()
    assert_no_refill_written()
    assert Pump.objects.get().filled_at == at()


def test_a_refill_without_the_r6_confirmations_is_refused_and_writes_nothing(team, pump_id):
    due = Pump.objects.get().refill_due_at
    response = refill(team[0], pump_id, at(days=80), septum_access_confirmed=False, aseptic_technique=False)
    assert response.status_code == 400
    body = response.json()
    assert body["rule"] == "R6" and {"septum_access_confirmed", "aseptic_technique"} <= body.keys()
    assert_no_refill_written()
    assert Pump.objects.get().refill_due_at == due


def test_a_refill_leaving_out_the_r6_confirmations_is_refused_r6(team, pump_id):
    body = {"refilled_at": at(days=80).isoformat(), "volume_removed_ml": "4", "volume_added_ml": "20",
            "concentration_mcg_per_ml": "500", "lot": "RF-1"}  # fmt: skip
    response = team[0].post(f"/api/v1/pumps/{pump_id}/refills/", body, format="json")
    assert response.status_code == 400 and response.json()["rule"] == "R6"
    assert_no_refill_written()


def test_a_new_strength_beyond_the_band_is_refused_with_its_refill_t15_t4(team, pump_id):
    # In titration, an increase with the new strength is a T3 step (adult spinal: at most 30 %).
    response = refill(team[0], pump_id, at(days=80), strength="2000", new_program={"new_daily_dose_mcg": "140"})
    assert response.status_code == 422
    assert (response.json()["rule"], response.json()["allowed_max_mcg"]) == ("T4", "130.00")
    assert_no_refill_written()


def test_a_new_strength_with_a_higher_dose_is_a_spaced_titration_step_t15_t3(team, pump_id):
    body = refill(team[0], pump_id, at(days=80), strength="2000", new_program={"new_daily_dose_mcg": "120"}).json()
    change = DoseChange.objects.get(pk=body["dose_change"]["id"])
    assert (change.kind, change.concentration_mcg_per_ml) == ("titration", Decimal("2000"))
    assert change.band_max_percent == Decimal("30") and change.refill_id == Refill.objects.get().pk


def test_a_pump_without_dead_space_refuses_the_new_strength_until_it_is_given_t15(clock, team, running_pump):
    clock.move_to(at(days=80))
    response = refill(team[0], running_pump, at(days=80), strength="2000", **TO_2000)
    assert response.status_code == 409 and response.json()["rule"] == "T15"
    assert "dead_space_ml" in response.json()["detail"]
    assert_no_refill_written()
    assert Pump.objects.get().dead_space_ml is None
    response = refill(team[0], running_pump, at(days=80), strength="2000", dead_space_ml="0.2", **TO_2000)
    assert response.status_code == 201 and response.json()["transition"]["hours"] == "96.0"
    assert Pump.objects.get().dead_space_ml == Decimal("0.2")


def test_no_refill_while_a_new_strength_waits_for_its_program_t15(clock, team, pump_id):
    refill(team[0], pump_id, at(days=80), strength="2000", **TO_2000)
    clock.move_to(at(days=81))
    response = refill(team[0], pump_id, at(days=81), removed="19.9", added="20")
    assert response.status_code == 409 and response.json()["rule"] == "T15"
    assert Refill.objects.count() == 1


def test_the_observation_due_an_hour_after_a_refill_raises_its_a1_alert_r6(team, pump_id):
    assert refill(team[0], pump_id, at(days=80), removed="4.0").status_code == 201
    check = DueCheck.objects.get(kind="titration.observation_after_refill")
    assert check.due_at == (at(days=80, hours=1) + timedelta(minutes=15))
    dispatch_due_checks(now=check.due_at)
    alert = REFILL_OBSERVATION_ALERTS.get()
    assert (alert.rule, alert.target_role, alert.severity) == ("A1", "nurse", "warning")
    dispatch_due_checks(now=check.due_at + timedelta(minutes=30))
    assert Alert.objects.get(pk=alert.pk).state == "escalated"


def test_the_signature_page_shows_the_transition_and_no_band_for_a_same_dose_strength_change_t15(
    team, pump_id, neurologist
):
    change_id = refill(team[0], pump_id, at(days=80), removed="4.0", strength="2000", **TO_2000).json()["dose_change"][
        "id"
    ]
    page = logged_in(neurologist).get(f"/dose-changes/{change_id}/approve/").content.decode()
    assert "25.00 mcg/day" in page and "96.0 h" in page
    assert "None" not in page
