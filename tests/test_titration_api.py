"""Implant, titration with signed approvals, programming by blind re-entry, refills and refill alerts, through the
HTTP API as the real roles (api.md "Pumps, programs and dose changes", protocol T1-T12, R1-R5)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from screening import services as screening
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain
from wardflow.protocol import Response

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.django_db


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(api_as, nurse, neurologist):
    return api_as(nurse), api_as(neurologist)


def candidate_trial(clock, neurologist, nurse, patient, dose_hours="6.5"):
    """A screening trial that ended positive on dose 1 (50 mcg), built through the screening services."""
    clock.move_to(at(days=-5))
    trial = screening.open_trial(actor=neurologist, patient=patient)
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=at(days=-5), dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    clock.move_to(at(days=-5, hours=5))
    vitals = {"heart_rate": Decimal("70"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
              "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at(days=-5, hours=4),
                                ashworth_mean=Decimal("1"), penn_spasm_frequency=Decimal("1"), sedation="alert",
                                **vitals)  # fmt: skip
    screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                              duration_hours=Decimal(dose_hours))  # fmt: skip
    clock.move_to(T0)
    trial.refresh_from_db()
    return trial


def implant_body(trial, **overrides):
    body = {
        "implanted_at": at().isoformat(),
        "model": "SynchroMed II",
        "serial": f"SN-{trial.pk}",
        "reservoir_ml": "20",
        "alarm_ml": "2",
        "concentration_mcg_per_ml": "500",
        "initial_volume_ml": "20",
        "screening_trial": trial.pk,
    }
    return {**body, **overrides}


def implant(neuro, patient, trial, **overrides):
    return neuro.post(f"/api/v1/patients/{patient.pk}/pumps/", implant_body(trial, **overrides), format="json")


def approve(neuro, change_id, password=PASSWORD, **extra):
    return neuro.post(f"/api/v1/dose-changes/{change_id}/approve/", {"password": password, **extra}, format="json")


def programmed(nurse, change_id, when, dose, strength="500"):
    body = {"programmed_at": when.isoformat(), "daily_dose_mcg": dose, "concentration_mcg_per_ml": strength}
    return nurse.post(f"/api/v1/dose-changes/{change_id}/programmed/", body, format="json")


def propose(client, pump_id, dose, kind="titration", **extra):
    body = {"kind": kind, "new_daily_dose_mcg": dose, "reason": "spasms persist", **extra}
    return client.post(f"/api/v1/pumps/{pump_id}/dose-changes/", body, format="json")


def pump_of(client, pump_id):
    return client.get(f"/api/v1/pumps/{pump_id}/").json()


@pytest.fixture
def spinal_adult(make_patient, ward):
    return make_patient(ward, "SPINAL-1", date_of_birth=date(1975, 4, 2), spasticity_origin="spinal")


@pytest.fixture
def running_pump(clock, team, nurse, neurologist, spinal_adult):
    """An adult spinal patient whose initial 100 mcg/day is active since T0."""
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    body = implant(neuro, spinal_adult, trial).json()
    change_id = body["initial_dose_change"]["id"]
    assert approve(neuro, change_id).status_code == 200
    assert programmed(nurse_client, change_id, at(), "100").status_code == 200
    return body["id"]


# --- implant (T1) -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "initial"), [("6.5", "100.00"), ("10", "50.00")])
def test_implant_from_a_candidate_trial_proposes_the_t1_initial_dose(clock, team, nurse, neurologist, spinal_adult,
                                                                    hours, initial):  # fmt: skip
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult, dose_hours=hours)
    response = implant(neuro, spinal_adult, trial)
    assert response.status_code == 201, response.json()
    body = response.json()
    change = body["initial_dose_change"]
    assert (change["kind"], change["state"], change["new_daily_dose_mcg"]) == ("initial", "proposed", initial)
    assert change["previous_daily_dose_mcg"] is None
    assert body["daily_dose_mcg"] is None and body["phase"] == "titration"
    event = AuditEvent.objects.get(action="pump.implanted")
    assert Decimal(event.after["initial_daily_dose_mcg"]) == Decimal(initial)
    assert "T1" in event.rules


def test_implant_is_refused_unless_the_trial_is_a_candidate(clock, team, make_patient, ward, neurologist):
    _, neuro = team
    patient = make_patient(ward, "OPEN-1")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    response = implant(neuro, patient, trial)
    assert response.status_code == 409
    assert response.json()["rule"] == "T1"
    assert not Pump.objects.exists() and not DoseChange.objects.exists()


def test_a_non_commercial_strength_needs_a_dilution_record_t2(clock, team, nurse, neurologist, spinal_adult):
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    response = implant(neuro, spinal_adult, trial, concentration_mcg_per_ml="1000")
    assert response.status_code == 400 and "T2" in response.json()["dilution_note"][0]
    assert not Pump.objects.exists()
    dilution = "2000 mcg/mL diluted 1:1 with preservative-free NaCl 0.9%"
    response = implant(neuro, spinal_adult, trial, concentration_mcg_per_ml="1000", dilution_note=dilution)
    assert response.status_code == 201


def test_nurse_cannot_implant(clock, team, nurse, neurologist, spinal_adult):
    nurse_client, _ = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    assert implant(nurse_client, spinal_adult, trial).status_code == 403


# --- signature and blind re-entry (T9, T12) ---------------------------------------------------------------------


def test_initial_dose_signed_and_programmed_with_a_matching_blind_entry(clock, team, nurse, neurologist, spinal_adult):
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
    ]


def test_a_wrong_signature_password_answers_403_and_signs_nothing(clock, team, nurse, neurologist, spinal_adult):
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    change_id = implant(neuro, spinal_adult, trial).json()["initial_dose_change"]["id"]
    response = approve(neuro, change_id, password="not my password")
    assert response.status_code == 403
    assert DoseChange.objects.get(pk=change_id).state == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.approved").exists()


@pytest.mark.parametrize(("dose", "strength"), [("4.17", "500"), ("100", "50")])  # mcg/hour for mcg/day; strength slip
def test_a_blind_entry_mismatch_is_refused_audited_and_changes_nothing_t12(clock, team, nurse, neurologist,
                                                                           spinal_adult, dose, strength):  # fmt: skip
    nurse_client, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    body = implant(neuro, spinal_adult, trial).json()
    change_id = body["initial_dose_change"]["id"]
    approve(neuro, change_id)
    clock.move_to(at(hours=1))
    response = programmed(nurse_client, change_id, at(hours=1), dose, strength)
    assert response.status_code == 409
    assert response.json()["rule"] == "T12"
    assert DoseChange.objects.get(pk=change_id).state == "approved"
    assert Pump.objects.get().active_change is None
    assert not DueCheck.objects.filter(kind__startswith="titration.").exists()
    mismatch = AuditEvent.objects.get(action="dose_change.programming_mismatch")
    assert mismatch.rules == ["T12"] and Decimal(mismatch.after["entered_daily_dose_mcg"]) == Decimal(dose)


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
    assert programmed(neuro, change_id, at(hours=1), "100").status_code == 403


# --- titration (T3, T4) -----------------------------------------------------------------------------------------


def test_three_titration_steps_within_the_adult_spinal_band_at_24_h_spacing(clock, team, running_pump):
    nurse_client, neuro = team
    when = at()
    for new in ["120", "150", "190"]:
        clock.move_to(when + timedelta(hours=2))
        proposed = propose(nurse_client, running_pump, new)
        assert proposed.status_code == 201, proposed.json()
        change = proposed.json()
        assert change["allowed_band"] == {"min_percent": "10.0", "max_percent": "30.0"}
        assert datetime.fromisoformat(change["earliest_at"]) == when + timedelta(hours=24)
        assert approve(neuro, change["id"]).status_code == 200  # signed ahead of time
        clock.move_to(when + timedelta(hours=23))
        early = programmed(nurse_client, change["id"], when + timedelta(hours=23), new)
        assert early.status_code == 409 and early.json()["rule"] == "T3"
        when = when + timedelta(hours=24)
        clock.move_to(when)
        assert programmed(nurse_client, change["id"], when, new).status_code == 200
        assert pump_of(neuro, running_pump)["daily_dose_mcg"] == f"{Decimal(new):.2f}"
    changes = pump_of(neuro, running_pump)["dose_changes"]
    assert [c["state"] for c in changes] == ["active", "superseded", "superseded", "superseded"]
    assert [c["percent_change"] for c in changes[:3]] == ["26.7", "25.0", "20.0"]
    assert AuditEvent.objects.filter(action="dose_change.proposed").count() == 3
    assert AuditEvent.objects.filter(action="dose_change.programmed").count() == 4
    assert AuditEvent.objects.filter(action="dose_change.approved").count() == 4
    assert verify_chain().ok


def test_a_35_percent_step_is_refused_with_the_allowed_maximum_t4(clock, team, running_pump):
    nurse_client, _ = team
    clock.move_to(at(hours=2))
    events = AuditEvent.objects.count()
    response = propose(nurse_client, running_pump, "135")
    assert response.status_code == 422
    assert response.json()["rule"] == "T4"
    assert response.json()["allowed_max_mcg"] == "130.00"
    assert DoseChange.objects.count() == 1
    assert AuditEvent.objects.count() == events
    assert not Alert.objects.exists()


def test_an_overridden_step_keeps_its_reason_in_the_audit_and_raises_the_t10_advisory(clock, team, running_pump):
    _, neuro = team
    clock.move_to(at(hours=2))
    response = propose(neuro, running_pump, "135", override_reason="severe spasms, MDT agreed a larger step")
    assert response.status_code == 201, response.json()
    assert response.json()["override_reason"] == "severe spasms, MDT agreed a larger step"
    event = AuditEvent.objects.get(action="dose_change.overridden")
    assert "T4" in event.rules and "MDT agreed" in event.reason
    advisory = Alert.objects.get(kind="sudden_increase")
    assert (advisory.rule, advisory.target_role) == ("T10", "neurologist")
    assert "catheter" in advisory.message


def test_only_a_neurologist_may_override_the_band(clock, team, running_pump):
    nurse_client, _ = team
    response = propose(nurse_client, running_pump, "135", override_reason="please")
    assert response.status_code == 403
    assert response.json()["rule"] == "T4"
    assert DoseChange.objects.count() == 1


def test_a_step_below_the_band_minimum_is_allowed_with_a_notice(clock, team, running_pump):
    response = propose(team[0], running_pump, "105")
    assert response.status_code == 201
    assert any(n.startswith("T3") for n in response.json()["notices"])


@pytest.mark.parametrize(
    ("origin", "born", "new", "code"),
    [
        ("cerebral", date(1980, 1, 1), "116", 422),  # adult cerebral 5-15 %
        ("cerebral", date(1980, 1, 1), "115", 201),
        ("spinal", date(2014, 1, 1), "120", 422),  # pediatric 5-15 %, either origin
        ("spinal", date(2014, 1, 1), "112", 201),
    ],
)
def test_cerebral_and_pediatric_patients_have_the_narrower_band(clock, api_as, nurse, neurologist, make_patient,
                                                               ward, origin, born, new, code):  # fmt: skip
    nurse_client, neuro = api_as(nurse), api_as(neurologist)
    patient = make_patient(ward, f"P-{origin}-{born.year}", date_of_birth=born, spasticity_origin=origin)
    trial = candidate_trial(clock, neurologist, nurse, patient)
    body = implant(neuro, patient, trial).json()
    approve(neuro, body["initial_dose_change"]["id"], acknowledge_warnings=True)
    assert programmed(nurse_client, body["initial_dose_change"]["id"], at(), "100").status_code == 200
    response = propose(nurse_client, body["id"], new)
    assert response.status_code == code
    if code == 422:
        assert response.json()["allowed_max_mcg"] == "115.00"


def test_only_one_change_may_wait_at_a_time(clock, team, running_pump):
    propose(team[0], running_pump, "120")
    again = propose(team[0], running_pump, "125")
    assert again.status_code == 409 and again.json()["rule"] == "T9"


# --- reductions (T6) and discontinuation (T11) -------------------------------------------------------------------


def test_adverse_effect_reduction_inside_24_h_supersedes_a_pending_increase_t6(clock, team, running_pump):
    nurse_client, neuro = team
    clock.move_to(at(hours=2))
    increase = propose(nurse_client, running_pump, "120").json()
    approve(neuro, increase["id"])
    clock.move_to(at(hours=3))
    reduction = propose(neuro, running_pump, "85", kind="adverse_effect_reduction", reason="drowsy, hypotonic")
    assert reduction.status_code == 201, reduction.json()
    assert reduction.json()["allowed_band"] == {"min_percent": "-20.0", "max_percent": "-10.0"}
    assert datetime.fromisoformat(reduction.json()["earliest_at"]) == at(hours=3)
    assert DoseChange.objects.get(pk=increase["id"]).state == "rejected"
    superseded = AuditEvent.objects.get(action="dose_change.rejected")
    assert superseded.rules == ["T6"]
    approve(neuro, reduction.json()["id"])
    done = programmed(nurse_client, reduction.json()["id"], at(hours=3), "85")
    assert done.status_code == 200, done.json()
    assert pump_of(neuro, running_pump)["daily_dose_mcg"] == "85.00"


def test_a_reduction_beyond_20_percent_needs_an_override_t6(clock, team, running_pump):
    response = propose(team[1], running_pump, "70", kind="adverse_effect_reduction")
    assert response.status_code == 422 and response.json()["rule"] == "T6"


def test_discontinuation_tapers_and_stops_at_once_only_for_a_serious_reaction_t11(clock, team, running_pump):
    _, neuro = team
    abrupt = propose(neuro, running_pump, "0", kind="discontinuation", reason="patient request")
    assert abrupt.status_code == 409 and abrupt.json()["rule"] == "T11"
    taper = propose(neuro, running_pump, "80", kind="discontinuation", reason="planned taper")
    assert taper.status_code == 201
    neuro.post(f"/api/v1/dose-changes/{taper.json()['id']}/reject/", {"reason": "re-plan"}, format="json")
    stop = propose(neuro, running_pump, "0", kind="discontinuation", serious_adverse_reaction=True,
                   reason="anaphylaxis to the drug")  # fmt: skip
    assert stop.status_code == 201
    assert "T11" in AuditEvent.objects.filter(action="dose_change.proposed").last().rules


def test_a_titration_step_must_raise_the_dose(clock, team, running_pump):
    response = propose(team[0], running_pump, "90")
    assert response.status_code == 400 and "new_daily_dose_mcg" in response.json()


# --- programs with segments (T7) ---------------------------------------------------------------------------------


def test_a_night_segment_program_delivers_the_daily_total(clock, team, running_pump):
    nurse_client, neuro = team
    segments = [{"start": "00:00", "percent": "100"}, {"start": "20:00", "percent": "120"},
                {"start": "23:00", "percent": "100"}]  # fmt: skip
    change = propose(neuro, running_pump, "123", segments=segments).json()
    approve(neuro, change["id"])
    clock.move_to(at(days=1))
    assert programmed(nurse_client, change["id"], at(days=1), "123").status_code == 200
    shown = pump_of(neuro, running_pump)["segments"]
    assert [s["start"] for s in shown] == ["00:00", "20:00", "23:00"]
    rates = [Decimal(s["rate_mcg_per_hour"]) for s in shown]
    assert rates[1] == Decimal("6.000") and rates[0] == Decimal("5.000")
    assert "T7" in AuditEvent.objects.get(action="dose_change.proposed").rules


def test_segments_must_start_at_midnight_t7(clock, team, running_pump):
    response = propose(team[1], running_pump, "120", segments=[{"start": "06:00", "percent": "100"}])
    assert response.status_code == 400 and "segments" in response.json()
    assert DoseChange.objects.count() == 1


# --- refills and reminders (R1-R5) -------------------------------------------------------------------------------


def refill(client, pump_id, when, removed="2.5", added="20", strength="500", lot="RF-1"):
    body = {"refilled_at": when.isoformat(), "volume_removed_ml": removed, "volume_added_ml": added,
            "concentration_mcg_per_ml": strength, "lot": lot}  # fmt: skip
    return client.post(f"/api/v1/pumps/{pump_id}/refills/", body, format="json")


def test_a_refill_moves_the_refill_due_date(clock, team, running_pump):
    nurse_client, _ = team
    before = datetime.fromisoformat(pump_of(nurse_client, running_pump)["refill_due_at"])
    clock.move_to(at(days=80))
    # after 80 days at 100 mcg/day, 16 mL of 500 mcg/mL were used: 4 mL expected in the reservoir
    response = refill(nurse_client, running_pump, at(days=80), removed="4.0")
    assert response.status_code == 201, response.json()
    after = datetime.fromisoformat(response.json()["refill_due_at"])
    assert before == at(days=87)
    assert after == at(days=80 + 87)
    assert Refill.objects.get().expected_residual_ml == Decimal("4")
    assert not Alert.objects.filter(kind="residual_discrepancy").exists()
    assert AuditEvent.objects.get(action="refill.recorded").rules == ["R1", "R2", "R5"]


def test_a_residual_off_by_more_than_2_ml_raises_the_r5_advisory(clock, team, running_pump):
    clock.move_to(at(days=80))
    refill(team[0], running_pump, at(days=80), removed="6.5")
    advisory = Alert.objects.get(kind="residual_discrepancy")
    assert (advisory.rule, advisory.target_role) == ("R5", "neurologist")


def test_a_dose_change_mid_interval_changes_the_reservoir_slope(clock, team, running_pump):
    nurse_client, neuro = team
    change = propose(nurse_client, running_pump, "120").json()
    approve(neuro, change["id"])
    clock.move_to(at(days=10))
    programmed(nurse_client, change["id"], at(days=10), "120")
    # 10 days at 100 mcg/day used 2 mL: 18 mL left at day 10, then (18 - 2) x 500 / 120 = 66.67 days to the alarm
    pump = Pump.objects.get()
    assert pump.alarm_at == at(days=10) + timedelta(days=66, hours=16)


def test_rescheduling_replaces_the_pending_reminders(clock, team, running_pump):
    nurse_client, neuro = team
    pending = lambda: DueCheck.objects.filter(kind__startswith="titration.refill", state="pending")  # noqa: E731
    assert pending().count() == 5  # 14, 7, 3, 1 days before, and overdue
    change = propose(nurse_client, running_pump, "120").json()
    approve(neuro, change["id"])
    clock.move_to(at(days=1))
    programmed(nurse_client, change["id"], at(days=1), "120")
    assert pending().count() == 5
    due = Pump.objects.get().refill_due_at
    expected = sorted([*(due - timedelta(days=d) for d in (14, 7, 3, 1)), due])
    assert sorted(pending().values_list("due_at", flat=True)) == expected


def test_an_overdue_refill_of_a_high_risk_patient_raises_escalating_alerts_r4(clock, api_as, nurse, neurologist,
                                                                              make_patient, ward):  # fmt: skip
    nurse_client, neuro = api_as(nurse), api_as(neurologist)
    patient = make_patient(ward, "HIGH-RISK", sci_t6_or_above=True)
    trial = candidate_trial(clock, neurologist, nurse, patient)
    body = implant(neuro, patient, trial).json()
    approve(neuro, body["initial_dose_change"]["id"])
    programmed(nurse_client, body["initial_dose_change"]["id"], at(), "100")
    due = Pump.objects.get().refill_due_at
    reminders = DueCheck.objects.filter(kind="titration.refill_reminder").order_by("due_at")
    assert [c.payload["days_before"] for c in reminders] == [21, 14, 7, 3, 1]
    dispatch_due_checks(now=due - timedelta(days=21))
    first = Alert.objects.get(kind="refill_due")
    assert first.rule == "R4"
    dispatch_due_checks(now=due)
    overdue = Alert.objects.get(kind="refill_overdue")
    assert (overdue.severity, overdue.target_role, overdue.rule) == ("urgent", "neurologist", "R4")
    dispatch_due_checks(now=due + timedelta(minutes=10))
    overdue.refresh_from_db()
    assert overdue.state == "escalated"
    dispatch_due_checks(now=due + timedelta(days=1))
    assert Alert.objects.filter(kind="refill_overdue").count() == 2  # repeats daily until the refill
    inbox = neuro.get("/api/v1/alerts/?state=open,escalated").json()["results"]
    assert "refill_overdue" in {a["kind"] for a in inbox}
    clock.move_to(due + timedelta(days=1, hours=2))
    refill(nurse_client, body["id"], due + timedelta(days=1, hours=2), removed="0.5")
    assert not Alert.objects.filter(kind__in=["refill_due", "refill_overdue"]).exclude(state="resolved").exists()
    dispatch_due_checks(now=due + timedelta(days=2))
    assert Alert.objects.filter(kind="refill_overdue").count() == 2


def test_titration_step_due_reminder_24_h_after_an_activated_step(clock, team, running_pump):
    dispatch_due_checks(now=at(hours=23))
    assert not Alert.objects.filter(kind="titration_step_due").exists()
    dispatch_due_checks(now=at(hours=24))
    assert Alert.objects.get(kind="titration_step_due").target_role == "neurologist"


def test_refill_adjustment_in_maintenance_uses_the_t5_band(clock, team, running_pump):
    nurse_client, neuro = team
    assert propose(nurse_client, running_pump, "120", kind="refill_adjustment").json()["rule"] == "T5"
    phase = neuro.post(f"/api/v1/pumps/{running_pump}/phase/", {"phase": "maintenance", "reason": "stable"},
                       format="json")  # fmt: skip
    assert phase.status_code == 200 and phase.json()["phase"] == "maintenance"
    assert propose(nurse_client, running_pump, "145", kind="refill_adjustment").json()["rule"] == "T5"
    assert propose(nurse_client, running_pump, "140", kind="refill_adjustment").status_code == 201
    assert propose(nurse_client, running_pump, "110").status_code == 409  # titration is over


# --- implanted patients' observations, registry ------------------------------------------------------------------


def test_withdrawal_signs_on_an_implanted_patient_raise_the_w1_alert(clock, team, running_pump, spinal_adult):
    nurse_client, _ = team
    body = {"observed_at": at().isoformat(), "ashworth_mean": "3", "penn_spasm_frequency": "3", "heart_rate": "110",
            "systolic_bp": "90", "diastolic_bp": "50", "respiratory_rate": "20", "spo2": "97", "temperature_c": "39.4",
            "sedation": "alert", "signs": ["high_fever", "rebound_spasticity"]}  # fmt: skip
    response = nurse_client.post(f"/api/v1/patients/{spinal_adult.pk}/observations/", body, format="json")
    assert response.status_code == 201, response.json()
    alert = Alert.objects.get(kind="withdrawal_signs")
    assert (alert.rule, alert.severity, alert.target_role) == ("W1", "urgent", "neurologist")


def test_registry_lists_implanted_patients_by_urgency_in_constant_queries(clock, api_as, nurse, neurologist,
                                                                         make_patient, ward,
                                                                         django_assert_max_num_queries):  # fmt: skip
    nurse_client, neuro = api_as(nurse), api_as(neurologist)
    for i, volume in enumerate(["20", "8", "14"]):
        patient = make_patient(ward, f"REG-{i}")
        trial = candidate_trial(clock, neurologist, nurse, patient)
        body = implant(neuro, patient, trial, initial_volume_ml=volume).json()
        approve(neuro, body["initial_dose_change"]["id"])
        programmed(nurse_client, body["initial_dose_change"]["id"], at(), "100")
    # token and user, role, ward ids, count, pumps (patient, ward, active program)
    with django_assert_max_num_queries(5):
        response = nurse_client.get("/api/v1/pumps/?ward=N3")
    rows = response.json()["results"]
    assert [r["mrn"] for r in rows] == ["REG-1", "REG-2", "REG-0"]
    assert rows[0]["daily_dose_mcg"] == "100.00"
    assert Decimal(rows[0]["days_to_alarm"]) == Decimal("30.0")


def test_figures_are_decimal_strings_with_the_rounding_stated(clock, team, running_pump):
    pump = pump_of(team[1], running_pump)
    for field in ["daily_dose_mcg", "rate_ml_per_day", "current_volume_ml", "days_to_alarm", "reservoir_ml"]:
        assert isinstance(pump[field], str)
    assert pump["rounding"]["days_to_alarm"].startswith("1 decimal, rounded down")
    assert pump["current_volume_ml"] == "20.00"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(new=st.decimals(min_value=Decimal("101"), max_value=Decimal("250"), places=2), override=st.booleans())
def test_an_approved_change_never_exceeds_its_band_without_a_reasoned_override(clock, team, running_pump, neurologist,
                                                                               new, override):  # fmt: skip
    _, neuro = team
    body = {"override_reason": "MDT decision"} if override else {}
    response = propose(neuro, running_pump, str(new), **body)
    if response.status_code == 422:
        assert not override
        return
    assert response.status_code == 201
    change = DoseChange.objects.get(pk=response.json()["id"])
    approve(neuro, change.pk)
    change.refresh_from_db()
    assert change.state == "approved"
    assert change.percent_change <= change.band_max_percent or change.override_reason.strip()
    neuro.post(f"/api/v1/dose-changes/{change.pk}/reject/", {"reason": "example done"}, format="json")


def test_range_warnings_must_be_acknowledged_to_sign_t8(clock, team, running_pump):
    _, neuro = team
    neuro.post(f"/api/v1/pumps/{running_pump}/phase/", {"phase": "maintenance", "reason": "stable"}, format="json")
    change = propose(neuro, running_pump, "1100", kind="refill_adjustment", override_reason="documented tolerance")
    assert change.status_code == 201
    assert any("T8: limited experience" in w for w in change.json()["warnings"])
    unacknowledged = approve(neuro, change.json()["id"])
    assert unacknowledged.status_code == 409 and unacknowledged.json()["rule"] == "T8"
    assert DoseChange.objects.get(pk=change.json()["id"]).state == "proposed"
    signed = approve(neuro, change.json()["id"], acknowledge_warnings=True)
    assert signed.status_code == 200 and signed.json()["warnings_acknowledged"] is True
    assert "T8" in AuditEvent.objects.get(action="dose_change.approved", subject_id=str(change.json()["id"])).rules


def test_an_active_change_can_no_longer_be_rejected(clock, team, running_pump):
    _, neuro = team
    active = Pump.objects.get(pk=running_pump).active_change
    response = neuro.post(f"/api/v1/dose-changes/{active.pk}/reject/", {"reason": "too late"}, format="json")
    assert response.status_code == 409 and response.json()["rule"] == "T9"
    assert DoseChange.objects.get(pk=active.pk).state == "active"
    assert not AuditEvent.objects.filter(action="dose_change.rejected").exists()
