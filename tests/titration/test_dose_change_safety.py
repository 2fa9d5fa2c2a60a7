"""The 2026.2 dose-change safety rules, through the services and the HTTP API as the real roles: the restart after a
stop (T14), the taper (T11), the refill adjustment tied to its refill (T5), the allowed range a refusal states (T4),
refusals audited with their T10 advisory (D1), the lack-of-response advisory (T10), and the 24 h spacing to the
second (T3)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert
from screening import services as screening
from tests.titration.support import PASSWORD, T0, approve, at, programmed, propose, put_in_force, refill
from titration import selectors, services
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, OutsideAllowedBand, WorkflowConflict
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db

PROPOSED = ["dose_change.proposed", "dose_change.overridden"]


@pytest.fixture
def signer(make_staff, ward):
    """A second neurologist of the ward: signs what the first one proposed (T4 independent signature)."""
    return make_staff(Role.NEUROLOGIST, ward, username="dr_second")


def confirm(nurse, change: DoseChange, when: datetime, dose: str) -> DoseChange:
    """The nurse's blind re-entry of what the pump reads back, and a second nurse's read-back (T12)."""
    return put_in_force(nurse, change, when, dose)


def sign_and_program(nurse, signer, change: DoseChange, when: datetime) -> DoseChange:
    # T8: 0 mcg/day lies outside the range ever reported; the signer acknowledges it like any warning.
    services.approve_dose_change(actor=signer, change=change, password=PASSWORD, acknowledge_warnings=True)
    return confirm(nurse, change, when, str(change.new_daily_dose_mcg))


def step(actor, pump: Pump, dose: str, kind: str = "titration", **extra) -> DoseChange:
    return services.propose_dose_change(actor=actor, pump=pump, kind=kind, new_daily_dose_mcg=Decimal(dose), **extra)


@pytest.fixture
def stopped_pump(clock, active_pump, nurse, neurologist, signer) -> Pump:
    """The initial 100 mcg/day stopped at once for a serious adverse reaction: 0 mcg/day active since T0 + 1 h."""
    clock.move_to(at(hours=1))
    stop = step(neurologist, active_pump, "0", kind="discontinuation", serious_adverse_reaction=True,
                reason="anaphylactoid reaction")  # fmt: skip
    sign_and_program(nurse, signer, stop, at(hours=1))
    return Pump.objects.get(pk=active_pump.pk)


@pytest.fixture
def maintenance_pump(clock, active_pump, neurologist) -> Pump:
    return services.set_phase(actor=neurologist, pump=active_pump, phase="maintenance", reason="stable on 100")


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="dose_change.refused"))


# --- T14: restart after a stop ----------------------------------------------------------------------------------


def test_an_increase_from_a_stop_is_refused_pointing_to_the_restart_t14(clock, team, stopped_pump):
    nurse_client, _ = team
    clock.move_to(at(hours=2))
    response = propose(nurse_client, stopped_pump.pk, "20")
    assert response.status_code == 409 and response.json()["rule"] == "T14"
    assert "restart" in response.json()["detail"]
    assert not DoseChange.objects.filter(kind__in=["titration", "restart"]).exists()
    assert [e.rules for e in refusals()] == [["T14"]]


def test_a_neurologist_restarts_at_the_last_dose_with_the_w1_guidance_t14(clock, api_as, team, signer,
                                                                          stopped_pump):  # fmt: skip
    nurse_client, neuro = team
    clock.move_to(at(hours=30))
    response = propose(neuro, stopped_pump.pk, "100", kind="restart", reason="pain settled; withdrawal signs")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["percent_change"], body["allowed_band"]) == (None, None)
    assert "T14: the last non-zero daily dose was 100.00 mcg/day." in body["notices"]
    assert any(n.startswith("W1") and "at or near the previous dose" in n for n in body["notices"])
    assert datetime.fromisoformat(body["earliest_at"]) == at(hours=30)  # W1: not held by the T3 spacing
    assert approve(api_as(signer), body["id"]).status_code == 200
    assert programmed(nurse_client, body["id"], at(hours=30), "100").status_code == 200
    assert Pump.objects.get(pk=stopped_pump.pk).active_change.new_daily_dose_mcg == Decimal("100")
    assert set(AuditEvent.objects.get(action="dose_change.proposed", subject_id=str(body["id"])).rules) >= {"T14"}


def test_a_restart_above_the_last_dose_needs_an_override_t14(clock, team, stopped_pump):
    _, neuro = team
    clock.move_to(at(hours=2))
    refused = propose(neuro, stopped_pump.pk, "120", kind="restart")
    assert refused.status_code == 422 and refused.json()["rule"] == "T14"
    assert (refused.json()["allowed_min_mcg"], refused.json()["allowed_max_mcg"]) == ("0.01", "100.00")
    assert not DoseChange.objects.filter(kind="restart").exists()
    overridden = propose(neuro, stopped_pump.pk, "120", kind="restart", override_reason="MDT: higher need")
    assert overridden.status_code == 201
    assert "T14" in AuditEvent.objects.get(action="dose_change.overridden").rules


def test_only_a_neurologist_proposes_a_restart_t14(clock, team, stopped_pump):
    nurse_client, _ = team
    response = propose(nurse_client, stopped_pump.pk, "100", kind="restart")
    assert response.status_code == 403 and response.json()["rule"] == "T14"
    assert not DoseChange.objects.filter(kind="restart").exists()


def test_a_restart_is_refused_while_a_program_runs_t14(clock, team, running_pump):
    _, neuro = team
    response = propose(neuro, running_pump, "120", kind="restart")
    assert response.status_code == 409 and response.json()["rule"] == "T14"
    assert DoseChange.objects.count() == 1


# --- T11: the taper ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dose", ["75", "1"])
def test_a_taper_step_beyond_20_percent_is_refused_with_its_range_t11(clock, team, running_pump, dose):
    _, neuro = team
    response = propose(neuro, running_pump, dose, kind="discontinuation", reason="planned stop")
    assert response.status_code == 422 and response.json()["rule"] == "T11"
    assert (response.json()["allowed_min_mcg"], response.json()["allowed_max_mcg"]) == ("80.00", "99.99")
    assert "80.00 to 99.99 mcg/day" in response.json()["detail"]
    assert DoseChange.objects.count() == 1
    assert not Alert.objects.filter(kind="sudden_increase").exists()  # T10 is about increases


def test_a_neurologist_overrides_the_taper_band_with_a_reason_t11(clock, team, running_pump):
    _, neuro = team
    response = propose(neuro, running_pump, "40", kind="discontinuation", override_reason="intrathecal infection")
    assert response.status_code == 201
    assert {"T11", "T4"} <= set(AuditEvent.objects.get(action="dose_change.overridden").rules)
    assert not Alert.objects.filter(kind="sudden_increase").exists()


def test_one_taper_step_per_24_h_t11(clock, active_pump, nurse, neurologist, signer):
    clock.move_to(at(hours=1))
    sign_and_program(nurse, signer, step(neurologist, active_pump, "80", kind="discontinuation"), at(hours=1))
    clock.move_to(at(hours=2))
    with pytest.raises(WorkflowConflict) as refused:
        step(neurologist, active_pump, "64", kind="discontinuation")
    assert (refused.value.rule, refused.value.extra["earliest_at"]) == ("T11", at(hours=25))
    assert not DoseChange.objects.filter(new_daily_dose_mcg=Decimal("64")).exists()
    clock.move_to(at(hours=25))
    assert step(neurologist, active_pump, "64", kind="discontinuation").state == "proposed"


def test_the_final_step_to_zero_is_taken_from_50_mcg_per_day_or_below_t11(clock, active_pump, nurse, neurologist,
                                                                           signer):  # fmt: skip
    clock.move_to(at(hours=1))
    to_40 = step(neurologist, active_pump, "40", kind="discontinuation", override_reason="infection, fast taper")
    sign_and_program(nurse, signer, to_40, at(hours=1))
    clock.move_to(at(hours=25))
    final = step(nurse, active_pump, "0", kind="discontinuation", reason="last taper step")
    assert (final.state, final.serious_adverse_reaction, final.band_min_percent) == ("proposed", False, None)
    assert "T11" in AuditEvent.objects.get(action="dose_change.proposed", subject_id=str(final.pk)).rules


def test_a_final_step_from_above_50_is_refused_with_the_next_step_range_t11(clock, team, running_pump):
    _, neuro = team
    response = propose(neuro, running_pump, "0", kind="discontinuation", reason="planned stop")
    assert response.status_code == 409 and response.json()["rule"] == "T11"
    assert (response.json()["allowed_min_mcg"], response.json()["allowed_max_mcg"]) == ("80.00", "99.99")
    assert DoseChange.objects.count() == 1


def test_an_emergency_stop_needs_a_documented_reason_t11(clock, team, running_pump):
    _, neuro = team
    response = propose(neuro, running_pump, "0", kind="discontinuation", serious_adverse_reaction=True, reason=" ")
    assert response.status_code == 400
    assert response.json()["rule"] == "T11" and "reason" in response.json()
    assert DoseChange.objects.count() == 1
    assert not AuditEvent.objects.filter(action__in=PROPOSED).exists()


# --- T5: a refill adjustment is tied to its refill --------------------------------------------------------------


def test_a_refill_adjustment_names_its_refill_t5(clock, team, maintenance_pump):
    nurse_client, _ = team
    response = propose(nurse_client, maintenance_pump.pk, "120", kind="refill_adjustment")
    assert response.status_code == 400 and "refill" in response.json()
    assert DoseChange.objects.count() == 1


def test_a_refill_adjustment_follows_its_refill_within_24_h_t5(clock, team, maintenance_pump):
    nurse_client, _ = team
    clock.move_to(at(days=1))
    assert refill(nurse_client, maintenance_pump.pk, at(days=1)).status_code == 201
    visit = maintenance_pump.refills.get().pk
    clock.move_to(at(days=2, hours=1))
    response = propose(nurse_client, maintenance_pump.pk, "140", kind="refill_adjustment", refill=visit)
    assert response.status_code == 409 and response.json()["rule"] == "T5"
    assert DoseChange.objects.count() == 1


def test_a_refill_has_at_most_one_adjustment_t5(clock, team, api_as, signer, maintenance_pump):
    nurse_client, _ = team
    clock.move_to(at(days=1))
    refill(nurse_client, maintenance_pump.pk, at(days=1))
    visit = maintenance_pump.refills.get().pk
    first = propose(nurse_client, maintenance_pump.pk, "120", kind="refill_adjustment", refill=visit).json()
    assert first["refill"] == visit
    approve(api_as(signer), first["id"])
    assert programmed(nurse_client, first["id"], at(days=1), "120").status_code == 200
    second = propose(nurse_client, maintenance_pump.pk, "130", kind="refill_adjustment", refill=visit)
    assert second.status_code == 409 and second.json()["rule"] == "T5"
    assert DoseChange.objects.filter(refill=visit).count() == 1


def test_a_titration_step_in_maintenance_uses_the_t3_band_t5(clock, team, maintenance_pump):
    nurse_client, _ = team
    beyond = propose(nurse_client, maintenance_pump.pk, "135")
    assert beyond.status_code == 422 and beyond.json()["rule"] == "T4"
    within = propose(nurse_client, maintenance_pump.pk, "120")
    assert within.status_code == 201
    assert within.json()["allowed_band"] == {"min_percent": "10.0", "max_percent": "30.0"}


# --- T4: the allowed range is itself accepted -------------------------------------------------------------------


def test_after_a_reduction_to_83_33_the_advertised_maximum_is_accepted_t4(clock, team, api_as, signer, running_pump):
    nurse_client, neuro = team
    reduction = propose(neuro, running_pump, "83.33", kind="adverse_effect_reduction", reason="drowsy").json()
    approve(api_as(signer), reduction["id"])
    assert programmed(nurse_client, reduction["id"], at(), "83.33").status_code == 200
    refused = propose(nurse_client, running_pump, "135")
    assert refused.status_code == 422
    assert (refused.json()["allowed_min_mcg"], refused.json()["allowed_max_mcg"]) == ("91.67", "108.32")
    assert "91.67 to 108.32 mcg/day" in refused.json()["detail"]
    assert propose(nurse_client, running_pump, "108.32").status_code == 201


# --- D1/T10: refusals are audited, with their advisory ----------------------------------------------------------


def test_a_refused_above_band_proposal_is_audited_with_the_t10_advisory_d1(clock, active_pump, nurse):
    with pytest.raises(OutsideAllowedBand):
        step(nurse, active_pump, "135", reason="spasms")
    [event] = refusals()
    assert (event.actor, event.role, event.subject_id, event.rules) == (nurse, "nurse", str(active_pump.pk),
                                                                        ["T10", "T4"])  # fmt: skip
    assert (Decimal(event.after["new_daily_dose_mcg"]), event.after["kind"]) == (Decimal("135"), "titration")
    assert Decimal(event.after["allowed_max_mcg"]) == Decimal("130.00")
    advisory = Alert.objects.get(kind="sudden_increase")
    assert (advisory.rule, advisory.target_role, advisory.subject_id) == ("T10", "neurologist", str(active_pump.pk))
    assert DoseChange.objects.count() == 1
    assert not AuditEvent.objects.filter(action__in=PROPOSED).exists()


@pytest.mark.django_db(transaction=True)
def test_the_refusal_event_is_committed_although_the_proposal_is_refused_d1(clock, active_pump, nurse,
                                                                            allow_audit_flush):  # fmt: skip
    with pytest.raises(OutsideAllowedBand):
        step(nurse, active_pump, "135")
    assert len(refusals()) == 1 and Alert.objects.filter(kind="sudden_increase").count() == 1
    assert DoseChange.objects.count() == 1


def test_a_refusal_sent_with_an_idempotency_key_keeps_its_audit_event_d1(clock, team, running_pump):
    nurse_client, _ = team
    body = {"kind": "titration", "new_daily_dose_mcg": "135", "reason": "spasms"}
    response = nurse_client.post(f"/api/v1/pumps/{running_pump}/dose-changes/", body, format="json",
                                 HTTP_IDEMPOTENCY_KEY="propose-135")  # fmt: skip
    assert response.status_code == 422
    assert [e.rules for e in refusals()] == [["T10", "T4"]]
    assert Alert.objects.filter(kind="sudden_increase").count() == 1
    assert DoseChange.objects.count() == 1


def test_three_increases_without_a_fall_in_ashworth_raise_the_lack_of_response_advisory_t10(clock, active_pump, nurse,
                                                                                           signer):  # fmt: skip
    patient = active_pump.patient
    vitals = {"penn_spasm_frequency": Decimal("2"), "heart_rate": Decimal("70"), "systolic_bp": Decimal("120"),
              "diastolic_bp": Decimal("80"), "respiratory_rate": Decimal("14"), "spo2": Decimal("98"),
              "temperature_c": Decimal("36.8"), "sedation": "alert"}  # fmt: skip

    def chart(hours: int, score: str) -> None:
        clock.move_to(at(hours=hours))
        screening.chart_observation(actor=nurse, patient=patient, observed_at=at(hours=hours),
                                    ashworth_mean=Decimal(score), **vitals)  # fmt: skip

    chart(1, "3")
    for day, (dose, score) in enumerate([("120", "3"), ("150", "3.5"), ("190", "3")], start=1):
        clock.move_to(at(days=day - 1, hours=2))
        proposed = step(nurse, active_pump, dose)
        clock.move_to(at(days=day))
        sign_and_program(nurse, signer, proposed, at(days=day))
        chart(24 * day + 6, score)
    fourth = step(nurse, active_pump, "230")
    advisory = Alert.objects.get(kind="lack_of_response")
    assert (advisory.rule, advisory.target_role) == ("T10", "neurologist")
    assert "catheter tip" in advisory.message and "pump failure" in advisory.message
    assert any(n.startswith("T10") for n in fourth.notices)
    assert "T10" in AuditEvent.objects.get(action="dose_change.proposed", subject_id=str(fourth.pk)).rules
    assert not Alert.objects.filter(kind="sudden_increase").exists()


# --- T3: the 24 h spacing to the second -------------------------------------------------------------------------


def test_programming_seconds_before_the_24_h_spacing_ends_is_refused_t3(clock, signed_initial, nurse, signer):
    confirm(nurse, signed_initial, T0 + timedelta(seconds=45), "100")
    clock.move_to(at(hours=1))
    change = step(nurse, signed_initial.pump, "120")
    services.approve_dose_change(actor=signer, change=change, password=PASSWORD)
    spacing_ends = T0 + timedelta(hours=24, seconds=45)
    clock.move_to(spacing_ends + timedelta(seconds=15))
    with pytest.raises(WorkflowConflict) as refused:
        confirm(nurse, change, spacing_ends - timedelta(seconds=35), "120")  # in the same minute, 35 s early
    assert (refused.value.rule, refused.value.extra["earliest_at"]) == ("T3", spacing_ends)
    assert DoseChange.objects.get(pk=change.pk).state == "approved"
    assert confirm(nurse, change, spacing_ends, "120").state == "active"


def test_a_programming_time_long_before_registration_is_refused(clock, signed_initial, nurse):
    with pytest.raises(InvalidInput) as refused:
        confirm(nurse, signed_initial, at(days=-40), "100")
    assert list(refused.value.errors) == ["programmed_at"]
    assert DoseChange.objects.get(pk=signed_initial.pk).state == "approved"
    assert not AuditEvent.objects.filter(action="dose_change.programmed").exists()


def test_the_proposal_form_offers_every_refill_of_the_t5_window_and_none_older(clock, running_pump, nurse):
    """T5: the refills a refill adjustment may name are those charted within the policy window, however many."""
    pump = Pump.objects.get(pk=running_pump)
    fills = [Refill.objects.create(pump=pump, refilled_at=at(hours=h), volume_removed_ml=Decimal("2"),
                                   volume_added_ml=Decimal("20"), concentration_mcg_per_ml=Decimal("500"), lot="L",
                                   expected_residual_ml=Decimal("2"), refilled_by=nurse)
             for h in (-30, -20, -15, -10, -5)]  # fmt: skip
    window = selectors.adjustable_refills(pump, at())
    assert window == [fills[-1], fills[-2], fills[-3], fills[-4]]  # newest first; the 30 h old one is out
