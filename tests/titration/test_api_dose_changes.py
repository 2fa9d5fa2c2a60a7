"""Dose changes through the HTTP API: titration steps and their bands (T3, T4, T8), reductions (T6), discontinuation
(T11), segmented programs (T7), refill adjustments (T5), and their signature or rejection (T9)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.models import Alert
from tests.titration.support import approve, at, candidate_trial, implant, programmed, propose, pump_of, refill
from titration.models import DoseChange, Pump
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain

pytestmark = pytest.mark.django_db


# --- signature (T8, T9) -----------------------------------------------------------------------------------------


def test_a_wrong_signature_password_answers_403_and_signs_nothing(clock, team, nurse, neurologist, spinal_adult):
    _, neuro = team
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    change_id = implant(neuro, spinal_adult, trial).json()["initial_dose_change"]["id"]
    response = approve(neuro, change_id, password="not my password")
    assert response.status_code == 403
    assert DoseChange.objects.get(pk=change_id).state == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.approved").exists()


def test_range_warnings_must_be_acknowledged_to_sign_t8(clock, team, running_pump, api_as, second_neurologist):
    _, neuro = team
    signer = api_as(second_neurologist)  # T4: an overridden change is signed by another neurologist
    change = propose(neuro, running_pump, "1100", override_reason="documented tolerance")
    assert change.status_code == 201
    assert any("T8: limited experience" in w for w in change.json()["warnings"])
    unacknowledged = approve(signer, change.json()["id"])
    assert unacknowledged.status_code == 409 and unacknowledged.json()["rule"] == "T8"
    assert DoseChange.objects.get(pk=change.json()["id"]).state == "proposed"
    signed = approve(signer, change.json()["id"], acknowledge_warnings=True)
    assert signed.status_code == 200 and signed.json()["warnings_acknowledged"] is True
    assert "T8" in AuditEvent.objects.get(action="dose_change.approved", subject_id=str(change.json()["id"])).rules


def test_an_active_change_can_no_longer_be_rejected(clock, team, running_pump):
    _, neuro = team
    active = Pump.objects.get(pk=running_pump).active_change
    response = neuro.post(f"/api/v1/dose-changes/{active.pk}/reject/", {"reason": "too late"}, format="json")
    assert response.status_code == 409 and response.json()["rule"] == "T9"
    assert DoseChange.objects.get(pk=active.pk).state == "active"
    assert not AuditEvent.objects.filter(action="dose_change.rejected").exists()


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


def test_a_35_percent_step_is_refused_with_the_allowed_range_t4(clock, team, running_pump):
    nurse_client, _ = team
    clock.move_to(at(hours=2))
    response = propose(nurse_client, running_pump, "135")
    assert response.status_code == 422
    assert response.json()["rule"] == "T4"
    assert (response.json()["allowed_min_mcg"], response.json()["allowed_max_mcg"]) == ("110.00", "130.00")
    assert DoseChange.objects.count() == 1
    assert not AuditEvent.objects.filter(action__in=["dose_change.proposed", "dose_change.overridden"]).exists()
    assert AuditEvent.objects.get(action="dose_change.refused").rules == ["T10", "T4"]


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(new=st.decimals(min_value=Decimal("101"), max_value=Decimal("250"), places=2), override=st.booleans())
def test_an_approved_change_never_exceeds_its_band_without_a_reasoned_override(clock, team, running_pump, neurologist,
                                                                               new, override, api_as,
                                                                               second_neurologist):  # fmt: skip
    _, neuro = team
    body = {"override_reason": "MDT decision"} if override else {}
    response = propose(neuro, running_pump, str(new), **body)
    if response.status_code == 422:
        assert not override
        return
    assert response.status_code == 201
    change = DoseChange.objects.get(pk=response.json()["id"])
    approve(api_as(second_neurologist), change.pk)
    change.refresh_from_db()
    assert change.state == "approved"
    assert change.percent_change <= change.band_max_percent or change.override_reason.strip()
    neuro.post(f"/api/v1/dose-changes/{change.pk}/reject/", {"reason": "example done"}, format="json")


# --- reductions (T6) and discontinuation (T11) ------------------------------------------------------------------


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


# --- programs with segments (T7) --------------------------------------------------------------------------------


def test_a_night_segment_program_delivers_the_daily_total(clock, team, running_pump):
    nurse_client, neuro = team
    segments = [{"start": "00:00", "percent": "100"}, {"start": "20:00", "percent": "120"},
                {"start": "23:00", "percent": "100"}]  # fmt: skip
    change = propose(neuro, running_pump, "123", segments=segments).json()
    approve(neuro, change["id"])
    clock.move_to(at(days=1))
    assert programmed(nurse_client, change["id"], at(days=1), "123", segments=segments).status_code == 200
    shown = pump_of(neuro, running_pump)["segments"]
    assert [s["start"] for s in shown] == ["00:00", "20:00", "23:00"]
    rates = [Decimal(s["rate_mcg_per_hour"]) for s in shown]
    assert rates[1] == Decimal("6.000") and rates[0] == Decimal("5.000")
    assert "T7" in AuditEvent.objects.get(action="dose_change.proposed").rules


def test_segments_must_start_at_midnight_t7(clock, team, running_pump):
    response = propose(team[1], running_pump, "120", segments=[{"start": "06:00", "percent": "100"}])
    assert response.status_code == 400 and "segments" in response.json()
    assert DoseChange.objects.count() == 1


# --- maintenance (T5) -------------------------------------------------------------------------------------------


def test_refill_adjustment_in_maintenance_uses_the_t5_band(clock, team, running_pump):
    nurse_client, neuro = team
    assert propose(nurse_client, running_pump, "120", kind="refill_adjustment").json()["rule"] == "T5"
    phase = neuro.post(f"/api/v1/pumps/{running_pump}/phase/", {"phase": "maintenance", "reason": "stable"},
                       format="json")  # fmt: skip
    assert phase.status_code == 200 and phase.json()["phase"] == "maintenance"
    clock.move_to(at(days=2))
    assert refill(nurse_client, running_pump, at(days=2)).status_code == 201
    visit = Pump.objects.get(pk=running_pump).refills.get().pk
    assert propose(nurse_client, running_pump, "145", kind="refill_adjustment", refill=visit).json()["rule"] == "T5"
    assert propose(nurse_client, running_pump, "140", kind="refill_adjustment", refill=visit).status_code == 201


def test_the_proposer_of_an_override_cannot_sign_it_and_a_second_neurologist_can_t4(clock, team, running_pump, api_as,
                                                                                   second_neurologist):  # fmt: skip
    _, neuro = team
    change_id = propose(neuro, running_pump, "140", override_reason="MDT decision").json()["id"]
    own = approve(neuro, change_id)
    assert own.status_code == 403 and own.json()["rule"] == "T4"
    assert DoseChange.objects.get(pk=change_id).state == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.approved", subject_id=str(change_id)).exists()
    assert approve(api_as(second_neurologist), change_id).status_code == 200


def test_with_the_independent_signature_policy_off_the_proposer_signs_an_override_t4(clock, team, running_pump,
                                                                                    settings):  # fmt: skip
    settings.WARDFLOW_POLICY = {"independent_override_signature": False}
    _, neuro = team
    change_id = propose(neuro, running_pump, "140", override_reason="MDT decision").json()["id"]
    assert approve(neuro, change_id).status_code == 200
