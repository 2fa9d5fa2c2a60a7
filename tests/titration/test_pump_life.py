"""A pump's life through the HTTP API (T1, T13, P1): one pump in place per patient, its explant, its replacement
carrying the program in force over, nothing more done to a pump taken out, and the alert ahead of its elective
replacement date."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from screening.models import Assessment, ScreeningTrial, TestDose
from tests.titration.support import approve, at, candidate_trial, implant, programmed, propose, pump_of, refill
from titration import selectors
from titration.models import DoseChange, Pump, Refill
from titration.services import elective_replacement_alert
from wardflow.audit.models import AuditEvent
from wardflow.clinical_time import ward_timezone
from wardflow.protocol import Response, TrialState

pytestmark = pytest.mark.django_db

NIGHT = [{"start": "00:00", "percent": "100"}, {"start": "20:00", "percent": "120"}]


def recorded_candidate_trial(patient, neurologist, nurse, days_ago: int) -> ScreeningTrial:
    """An earlier screening trial that ended candidate, as its records stand (how it got there is screening's)."""
    trial = ScreeningTrial.objects.create(patient=patient, state=TrialState.CANDIDATE, first_dose_mcg=Decimal("50"),
                                          opened_by=neurologist, opened_at=at(days=-days_ago))  # fmt: skip
    dose = TestDose.objects.create(trial=trial, number=1, dose_mcg=Decimal("50"), volume_ml=Decimal("1"), lot="L0",
                                   administered_at=at(days=-days_ago, hours=1), route="catheter",
                                   injection_seconds=90, resuscitation_ready=True, given_by=nurse)  # fmt: skip
    Assessment.objects.create(test_dose=dose, response=Response.POSITIVE, duration_hours=Decimal("6.5"),
                              assessed_at=at(days=-days_ago, hours=6), assessed_by=neurologist)  # fmt: skip
    return trial


def explant(client, pump_id, when=None, reason="pocket infection"):
    body = {"explanted_at": (when or at()).isoformat(), "reason": reason}
    return client.post(f"/api/v1/pumps/{pump_id}/explant/", body, format="json")


def replace(client, pump_id, when=None, **overrides):
    body = {"replaced_at": (when or at()).isoformat(), "reason": "end of battery life", "model": "SynchroMed III",
            "serial": "SN-NEW", "reservoir_ml": "20", "alarm_ml": "2", "initial_volume_ml": "20",
            **overrides}  # fmt: skip
    return client.post(f"/api/v1/pumps/{pump_id}/replace/", body, format="json")


def patch_flags(client, patient, **flags):
    response = client.patch(f"/api/v1/patients/{patient.pk}/", flags, format="json")
    assert response.status_code == 200, response.json()


# --- implant (T1, T13, P1) ----------------------------------------------------------------------------------------


def test_a_second_implant_while_a_pump_is_in_place_is_refused_t13(clock, team, nurse, neurologist, spinal_adult,
                                                                  running_pump):  # fmt: skip
    _, neuro = team
    second = recorded_candidate_trial(spinal_adult, neurologist, nurse, days_ago=20)
    response = implant(neuro, spinal_adult, second, serial="SN-SECOND")
    assert response.status_code == 409
    assert response.json()["rule"] == "T13"
    assert list(Pump.objects.values_list("pk", flat=True)) == [running_pump]
    assert DoseChange.objects.count() == 1
    assert AuditEvent.objects.filter(action="pump.implanted").count() == 1


def test_an_implant_while_an_infection_is_charted_is_refused_p1(clock, team, nurse, neurologist, spinal_adult):
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    patch_flags(nurse_client, spinal_adult, active_infection=True)
    response = implant(neuro, spinal_adult, trial)
    assert response.status_code == 409
    assert response.json()["rule"] == "P1"
    assert not Pump.objects.exists() and not DoseChange.objects.exists()
    assert not AuditEvent.objects.filter(action="pump.implanted").exists()


def test_an_implant_records_the_dead_space_and_the_elective_replacement_date_t13_t15(clock, team, nurse, neurologist,
                                                                                     spinal_adult):  # fmt: skip
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    response = implant(neuro, spinal_adult, trial, dead_space_ml="0.25", elective_replacement_at="2033-09-30")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["dead_space_ml"], body["elective_replacement_at"]) == ("0.25", "2033-09-30")
    pump = Pump.objects.get()
    assert (pump.dead_space_ml, pump.elective_replacement_at) == (Decimal("0.25"), date(2033, 9, 30))
    event = AuditEvent.objects.get(action="pump.implanted")
    assert event.after["elective_replacement_at"] == "2033-09-30" and "T15" in event.rules


def test_an_implant_time_long_before_the_patients_registration_is_refused(clock, team, nurse, neurologist,
                                                                          spinal_adult):  # fmt: skip
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    response = implant(neuro, spinal_adult, trial, implanted_at=at(days=-400).isoformat())
    assert response.status_code == 400
    assert "registered" in response.json()["implanted_at"][0]
    assert not Pump.objects.exists()


# --- explant (T13) ------------------------------------------------------------------------------------------------


def test_an_explant_ends_everything_due_on_the_pump_t13(clock, team, running_pump):
    nurse_client, neuro = team
    pending = propose(nurse_client, running_pump, "120").json()
    clock.move_to(at(days=73))
    dispatch_due_checks(now=at(days=73))  # the 14-day refill reminder and the titration step are open
    assert Alert.objects.filter(kind__in=["refill_due", "titration_step_due"], state="open").count() == 2
    response = explant(neuro, running_pump, at(days=73), reason="pocket infection, pump removed")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["in_place"], body["explant_reason"], body["explanted_by"]) == (
        False, "pocket infection, pump removed", "dr_nolan"
    )  # fmt: skip
    assert body["refill_due_at"] is None and body["alarm_at"] is None
    assert DoseChange.objects.get(pk=pending["id"]).state == "rejected"
    assert AuditEvent.objects.get(action="dose_change.rejected").rules == ["T13"]
    assert not DueCheck.objects.filter(subject_type="titration.pump", state="pending").exists()
    assert not Alert.objects.filter(kind__in=["refill_due", "titration_step_due"]).exclude(state="resolved").exists()
    event = AuditEvent.objects.get(action="pump.explanted")
    assert (event.rules, event.reason, event.after["rejected_dose_changes"]) == (
        ["T13"], "pocket infection, pump removed", [pending["id"]]
    )  # fmt: skip


def test_an_explant_without_a_reason_is_refused_t13(clock, team, running_pump):
    _, neuro = team
    response = explant(neuro, running_pump, reason="  ")
    assert response.status_code == 400 and "reason" in response.json()
    assert Pump.objects.get().in_place
    assert DueCheck.objects.filter(subject_type="titration.pump", state="pending").exists()
    assert not AuditEvent.objects.filter(action="pump.explanted").exists()


def test_a_nurse_cannot_record_an_explant_t13(clock, team, running_pump):
    nurse_client, _ = team
    assert explant(nurse_client, running_pump).status_code == 403
    assert Pump.objects.get().in_place
    assert not AuditEvent.objects.filter(action="pump.explanted").exists()


def test_an_explanted_pump_cannot_be_explanted_again_t13(clock, team, running_pump):
    _, neuro = team
    assert explant(neuro, running_pump).status_code == 200
    response = explant(neuro, running_pump, reason="again")
    assert response.status_code == 409 and response.json()["rule"] == "T13"
    assert Pump.objects.get().explant_reason == "pocket infection"
    assert AuditEvent.objects.filter(action="pump.explanted").count() == 1


def test_the_registry_lists_the_pumps_in_place_and_an_explanted_pump_keeps_its_record_t13(clock, team, running_pump):
    nurse_client, neuro = team
    explant(neuro, running_pump)
    assert nurse_client.get("/api/v1/pumps/").json()["results"] == []
    record = pump_of(nurse_client, running_pump)
    assert record["in_place"] is False and record["daily_dose_mcg"] == "100.00"


def test_an_explanted_pump_is_not_refilled_t13(clock, team, running_pump):
    nurse_client, neuro = team
    explant(neuro, running_pump)
    clock.move_to(at(days=1))
    response = refill(nurse_client, running_pump, at(days=1), removed="19.8")
    assert response.status_code == 409 and response.json()["rule"] == "T13"
    assert not Refill.objects.exists()
    assert not AuditEvent.objects.filter(action="refill.recorded").exists()


def test_no_dose_change_is_proposed_for_an_explanted_pump_t13(clock, team, running_pump):
    nurse_client, neuro = team
    explant(neuro, running_pump)
    response = propose(nurse_client, running_pump, "120")
    assert response.status_code == 409 and response.json()["rule"] == "T13"
    assert DoseChange.objects.count() == 1
    assert not AuditEvent.objects.filter(action="dose_change.proposed").exists()


# --- replacement (T13) --------------------------------------------------------------------------------------------


@pytest.fixture
def night_program(clock, team, running_pump):
    """The pump's program in force since day 1: 120 mcg/day with a night segment at +20 % (T7)."""
    nurse_client, neuro = team
    change = propose(nurse_client, running_pump, "120", segments=NIGHT).json()
    approve(neuro, change["id"])
    clock.move_to(at(days=1))
    assert programmed(nurse_client, change["id"], at(days=1), "120", segments=NIGHT).status_code == 200
    return running_pump


def test_a_replacement_carries_the_program_in_force_over_to_the_new_pump_t13(clock, team, night_program):
    _, neuro = team
    clock.move_to(at(days=30))
    response = replace(neuro, night_program, at(days=30), dead_space_ml="0.2", elective_replacement_at="2033-10-01")
    assert response.status_code == 201, response.json()
    new = response.json()
    assert (new["replaces"], new["screening_trial"], new["in_place"]) == (night_program, None, True)
    assert (new["concentration_mcg_per_ml"], new["phase"], new["reservoir_ml"]) == ("500.0", "titration", "20.00")
    assert new["daily_dose_mcg"] is None and new["refill_due_at"] is None
    carried = new["initial_dose_change"]
    assert (carried["kind"], carried["state"], carried["new_daily_dose_mcg"]) == ("initial", "proposed", "120.00")
    old = Pump.objects.get(pk=night_program)
    assert carried["segments"] == old.active_change.segments and len(carried["segments"]) == 2
    assert carried["reason"].startswith("T13")
    assert carried["earliest_at"] == at(days=30).isoformat().replace("+00:00", "Z")
    assert (old.explanted_at, old.explant_reason, old.refill_due_at) == (at(days=30), "end of battery life", None)
    event = AuditEvent.objects.get(action="pump.replaced")
    assert "T13" in event.rules
    assert (event.before["pump"], event.after["pump"]) == (night_program, new["id"])
    assert Decimal(event.after["daily_dose_mcg"]) == Decimal("120")
    assert not AuditEvent.objects.filter(action="pump.explanted").exists()  # one event for the act
    assert AuditEvent.objects.filter(action="pump.implanted").count() == 1


def test_the_carried_over_dose_is_signed_and_programmed_then_the_refill_dates_run_from_the_new_fill_t13(
    clock, team, night_program
):
    nurse_client, neuro = team
    clock.move_to(at(days=30))
    carried = replace(neuro, night_program, at(days=30)).json()["initial_dose_change"]
    assert approve(neuro, carried["id"]).status_code == 200
    assert programmed(nurse_client, carried["id"], at(days=30), "120", segments=NIGHT).status_code == 200
    new = Pump.objects.get(explanted_at__isnull=True)
    # (20 - 2) mL x 500 mcg/mL / 120 mcg/day = 75 days to the alarm from the new fill, due 3 days before
    assert (new.active_change_id, new.refill_due_at) == (carried["id"], at(days=30 + 72))
    assert [row["id"] for row in nurse_client.get("/api/v1/pumps/").json()["results"]] == [new.pk]


def test_a_pump_whose_initial_dose_was_never_programmed_cannot_be_replaced_t13(clock, team, nurse, neurologist,
                                                                               spinal_adult):  # fmt: skip
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    pump_id = implant(neuro, spinal_adult, trial).json()["id"]
    response = replace(neuro, pump_id)
    assert response.status_code == 409 and response.json()["rule"] == "T13"
    assert list(Pump.objects.values_list("pk", "explanted_at")) == [(pump_id, None)]
    assert not AuditEvent.objects.filter(action="pump.replaced").exists()


def test_a_replacement_while_an_infection_is_charted_is_refused_p1(clock, team, spinal_adult, running_pump):
    nurse_client, neuro = team
    patch_flags(nurse_client, spinal_adult, active_infection=True)
    response = replace(neuro, running_pump)
    assert response.status_code == 409 and response.json()["rule"] == "P1"
    assert Pump.objects.get().in_place
    assert not AuditEvent.objects.filter(action="pump.replaced").exists()


def test_the_pages_ask_who_may_explant_replace_and_refill_a_pump_t13(active_pump, nurse, neurologist):
    assert selectors.may_explant(neurologist, active_pump) and not selectors.may_explant(nurse, active_pump)
    assert selectors.may_replace(neurologist, active_pump) and not selectors.may_replace(nurse, active_pump)
    assert selectors.may_refill(nurse, active_pump) and selectors.may_refill(neurologist, active_pump)
    active_pump.explanted_at = active_pump.implanted_at + timedelta(days=1)
    assert not selectors.may_explant(neurologist, active_pump)
    assert not selectors.may_replace(neurologist, active_pump)
    assert not selectors.may_refill(nurse, active_pump)


# --- elective replacement (T13) -----------------------------------------------------------------------------------


def ward_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ward_timezone())


def implanted_with_battery_end(clock, team, nurse, neurologist, patient, battery_end: str) -> int:
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, patient)
    response = implant(neuro, patient, trial, elective_replacement_at=battery_end)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_the_elective_replacement_alert_falls_due_90_days_before_the_date_t13(clock, team, nurse, neurologist,
                                                                              spinal_adult):  # fmt: skip
    pump_id = implanted_with_battery_end(clock, team, nurse, neurologist, spinal_adult, "2033-10-01")
    check = DueCheck.objects.get(kind="titration.elective_replacement", state="pending")
    assert (check.subject_id, check.due_at) == (str(pump_id), ward_midnight(date(2033, 7, 3)))  # 90 days before
    assert not Alert.objects.filter(kind="elective_replacement").exists()
    clock.move_to(ward_midnight(date(2033, 7, 3)) - timedelta(minutes=1))
    dispatch_due_checks()
    assert not Alert.objects.filter(kind="elective_replacement").exists()
    clock.move_to(ward_midnight(date(2033, 7, 3)))
    dispatch_due_checks()
    alert = Alert.objects.get(kind="elective_replacement")
    assert (alert.severity, alert.rule, alert.target_role) == ("warning", "T13", "neurologist")
    assert f"SN-{Pump.objects.get().screening_trial_id}" in alert.message and "2033-10-01" in alert.message
    assert "in 90 day(s)" in alert.message


def test_a_date_already_within_90_days_at_implant_raises_the_alert_at_once_t13(clock, team, nurse, neurologist,
                                                                               spinal_adult):  # fmt: skip
    implanted_with_battery_end(clock, team, nurse, neurologist, spinal_adult, "2026-12-01")  # 61 days after T0
    alert = Alert.objects.get(kind="elective_replacement")
    assert (alert.severity, alert.raised_at) == ("warning", at())
    assert "2026-12-01" in alert.message and "in 61 day(s)" in alert.message
    assert not DueCheck.objects.filter(kind="titration.elective_replacement").exists()


def test_no_elective_replacement_alert_without_a_date_t13(clock, team, running_pump):
    assert not DueCheck.objects.filter(kind="titration.elective_replacement").exists()
    assert not Alert.objects.filter(kind="elective_replacement").exists()


def test_an_explant_cancels_the_elective_replacement_check_and_closes_its_alert_t13(clock, team, nurse, neurologist,
                                                                                    spinal_adult):  # fmt: skip
    pump_id = implanted_with_battery_end(clock, team, nurse, neurologist, spinal_adult, "2033-10-01")
    elective_replacement_alert(Pump.objects.get(pk=pump_id), at())  # as its check raises it
    assert explant(team[1], pump_id).status_code == 200
    assert Alert.objects.get(kind="elective_replacement").state == "resolved"
    assert not DueCheck.objects.filter(kind="titration.elective_replacement", state="pending").exists()


def test_a_replacement_moves_the_elective_replacement_check_to_the_new_pump_t13(clock, team, nurse, neurologist,
                                                                                spinal_adult):  # fmt: skip
    nurse_client, neuro = team
    pump_id = implanted_with_battery_end(clock, team, nurse, neurologist, spinal_adult, "2033-10-01")
    change_id = Pump.objects.get(pk=pump_id).dose_changes.get().pk
    assert approve(neuro, change_id).status_code == 200
    assert programmed(nurse_client, change_id, at(), "100").status_code == 200
    clock.move_to(at(days=30))
    new = replace(neuro, pump_id, at(days=30), elective_replacement_at="2040-05-01").json()
    checks = DueCheck.objects.filter(kind="titration.elective_replacement")
    assert checks.get(subject_id=str(pump_id)).state == "cancelled"
    assert checks.get(subject_id=str(new["id"])).due_at == ward_midnight(date(2040, 2, 1))
    assert not Alert.objects.filter(kind="elective_replacement").exists()
