"""Screening trials through the HTTP API, as the real roles (api.md "Screening trials", protocol S1-S10, P1-P5)."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connections

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from screening.models import Assessment, Observation, ScreeningTrial, TestDose
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def adult(make_patient, ward):
    return make_patient(ward, "ADULT-1", date_of_birth=date(1980, 3, 1))


@pytest.fixture
def child(make_patient, ward):
    return make_patient(ward, "CHILD-1", date_of_birth=date(2016, 5, 1), spasticity_origin="cerebral")


@pytest.fixture
def toddler(make_patient, ward):
    return make_patient(ward, "TODDLER-1", date_of_birth=date(2024, 1, 1), spasticity_origin="cerebral")


@pytest.fixture
def ward_team(api_as, nurse, neurologist):
    return api_as(nurse), api_as(neurologist)


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def open_trial(client, patient, **body):
    return client.post(f"/api/v1/patients/{patient.pk}/screening-trials/", body, format="json")


def dose_body(at: datetime, mcg: str, ml: str, **overrides):
    body = {
        "administered_at": at.isoformat(),
        "dose_mcg": mcg,
        "volume_ml": ml,
        "lot": "L2611-A",
        "route": "lumbar_puncture",
        "injection_seconds": 90,
        "resuscitation_ready": True,
    }
    return {**body, **overrides}


def give(client, trial_id, at, mcg="50", ml="1", **overrides):
    return client.post(
        f"/api/v1/screening-trials/{trial_id}/doses/", dose_body(at, mcg, ml, **overrides), format="json"
    )


def chart(client, trial_id, at, ashworth="3", penn="3", signs=(), **overrides):
    body = {
        "observed_at": at.isoformat(),
        "ashworth_mean": ashworth,
        "penn_spasm_frequency": penn,
        "heart_rate": "72",
        "systolic_bp": "124",
        "diastolic_bp": "78",
        "respiratory_rate": "14",
        "spo2": "98",
        "temperature_c": "36.8",
        "sedation": "alert",
        "signs": list(signs),
    }
    return client.post(f"/api/v1/screening-trials/{trial_id}/observations/", {**body, **overrides}, format="json")


def assess(client, dose_id, response, **body):
    return client.post(f"/api/v1/test-doses/{dose_id}/assessment/", {"response": response, **body}, format="json")


def trial_of(client, trial_id):
    return client.get(f"/api/v1/screening-trials/{trial_id}/").json()


def observe_dose(nurse_client, trial_id, given_at, ashworth_after="3", penn_after="3"):
    """Baseline 30 min before, then the 1-8 h schedule, the 4-8 h readings at the given scores."""
    for h in range(1, 9):
        after = h >= 4
        response = chart(nurse_client, trial_id, given_at + timedelta(hours=h),
                         ashworth_after if after else "3", penn_after if after else "3")  # fmt: skip
        assert response.status_code == 201, response.json()


def actions():
    return list(AuditEvent.objects.exclude(action__startswith="alert.").values_list("action", "rules"))


# --- the three clinical paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("duration", "lasting"), [("6.5", "<= 8 h"), ("10", "> 8 h")])
def test_responder_on_dose_1(clock, ward_team, adult, duration, lasting):
    nurse, neuro = ward_team
    opened = open_trial(neuro, adult)
    assert opened.status_code == 201, opened.json()
    trial = opened.json()
    assert (trial["state"], trial["next_dose_number"], trial["next_dose_mcg"], trial["next_dose_due_at"]) == (
        "awaiting_dose", 1, "50.0", None,
    )  # fmt: skip
    assert chart(nurse, trial["id"], hours(-0.5)).status_code == 201  # baseline
    clock.move_to(hours(0.1))
    given = give(nurse, trial["id"], hours(0))
    assert given.status_code == 201, given.json()
    dose = given.json()
    assert dose["number"] == 1 and dose["dose_mcg"] == "50.0"
    assert [when(t) for t in dose["observations_due"]] == [hours(h) for h in range(1, 9)]
    clock.move_to(hours(8.1))
    observe_dose(nurse, trial["id"], hours(0), ashworth_after="1.5")
    shown = trial_of(neuro, trial["id"])
    assert shown["state"] == "observing"
    assert shown["suggestion"]["response"] == "positive"
    assessed = assess(neuro, dose["id"], "positive", duration_hours=duration, note=f"response lasting {lasting}")
    assert assessed.status_code == 201, assessed.json()
    assert assessed.json()["duration_hours"] == f"{float(duration):.1f}"
    final = trial_of(neuro, trial["id"])
    assert final["state"] == "candidate"
    assert final["next_dose_number"] is None
    assert str(Assessment.objects.get().duration_hours) == assessed.json()["duration_hours"]
    assert [a for a, _ in actions()].count("test_dose.given") == 1
    assert {a: r for a, r in actions() if a != "observation.charted"} == {
        "screening.opened": ["S1"],
        "test_dose.given": ["S1", "S4"],
        "response.assessed": ["S6", "S7", "S8", "S9"],
    }
    assert verify_chain().ok


def test_responder_on_dose_2_after_an_inadequate_dose_1(clock, ward_team, adult):
    nurse, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    chart(nurse, trial_id, hours(-0.5))
    first = give(nurse, trial_id, hours(0)).json()
    clock.move_to(hours(8.1))
    observe_dose(nurse, trial_id, hours(0))
    assert assess(neuro, first["id"], "inadequate").status_code == 201
    shown = trial_of(neuro, trial_id)
    assert (shown["state"], shown["next_dose_number"], shown["next_dose_mcg"]) == ("awaiting_dose", 2, "75.0")
    assert when(shown["next_dose_due_at"]) == hours(24)

    clock.move_to(hours(23.9))
    chart(nurse, trial_id, hours(23.5))  # baseline for dose 2
    too_early = give(nurse, trial_id, hours(23.9), "75", "1.5")
    assert too_early.status_code == 409
    assert too_early.json()["rule"] == "S3"
    assert when(too_early.json()["next_dose_due_at"]) == hours(24)

    clock.move_to(hours(24))
    assert trial_of(neuro, trial_id)["next_dose_due_at"] is None
    second = give(nurse, trial_id, hours(24), "75", "1.5")
    assert second.status_code == 201, second.json()
    clock.move_to(hours(32.1))
    observe_dose(nurse, trial_id, hours(24), penn_after="1")
    assert assess(neuro, second.json()["id"], "positive", duration_hours="7").status_code == 201
    assert trial_of(neuro, trial_id)["state"] == "candidate"
    assert {a: r for a, r in actions() if a == "test_dose.given"} == {"test_dose.given": ["S1", "S3", "S4"]}
    assert [a for a, _ in actions()].count("response.assessed") == 2
    assert verify_chain().ok


def test_non_responder_to_100_mcg_is_not_a_candidate(clock, ward_team, adult):
    nurse, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    for number, (mcg, ml) in enumerate([("50", "1"), ("75", "1.5"), ("100", "2")]):
        start = hours(24 * number)
        clock.move_to(start - timedelta(minutes=30))
        chart(nurse, trial_id, start - timedelta(minutes=30))
        clock.move_to(start)
        dose = give(nurse, trial_id, start, mcg, ml)
        assert dose.status_code == 201, dose.json()
        clock.move_to(start + timedelta(hours=8, minutes=5))
        observe_dose(nurse, trial_id, start)
        assert trial_of(neuro, trial_id)["suggestion"]["response"] == "inadequate"
        assert assess(neuro, dose.json()["id"], "inadequate").status_code == 201
    final = trial_of(neuro, trial_id)
    assert final["state"] == "not_candidate"
    assert final["next_dose_number"] is None
    clock.move_to(hours(80))
    refused = give(nurse, trial_id, hours(80), "100", "2")
    assert refused.status_code == 409
    assert TestDose.objects.count() == 3
    assert verify_chain().ok


def test_a_decision_that_differs_from_the_suggestion_is_audited_with_both_s7(clock, ward_team, adult):
    nurse, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    chart(nurse, trial_id, hours(-0.5))
    dose = give(nurse, trial_id, hours(0)).json()
    clock.move_to(hours(8.1))
    observe_dose(nurse, trial_id, hours(0))  # no change: suggests inadequate
    assert (
        assess(neuro, dose["id"], "positive", duration_hours="5", note="clearly easier to position").status_code == 201
    )
    event = AuditEvent.objects.get(action="response.assessed")
    assert event.after["response"] == "positive"
    assert event.after["suggested_response"] == "inadequate"
    assert event.after["differs_from_suggestion"] is True
    assert event.reason == "clearly easier to position"


# --- S2 and P2 --------------------------------------------------------------------------------------------------


def test_pediatric_25_mcg_start_with_a_reason_s2(clock, ward_team, child):
    nurse, neuro = ward_team
    opened = open_trial(neuro, child, first_dose_mcg="25", reason="very small child, 14 kg")
    assert opened.status_code == 201, opened.json()
    assert opened.json()["next_dose_mcg"] == "25.0"
    assert AuditEvent.objects.get(action="screening.opened").rules == ["S1", "S2"]
    wrong_volume = give(nurse, opened.json()["id"], hours(0), "25", "1")
    assert wrong_volume.status_code == 400 and "volume_ml" in wrong_volume.json()
    assert give(nurse, opened.json()["id"], hours(0), "25", "0.5").status_code == 201


def test_25_mcg_start_is_refused_for_adults_s2(clock, ward_team, adult):
    _, neuro = ward_team
    response = open_trial(neuro, adult, first_dose_mcg="25", reason="small")
    assert response.status_code == 409
    assert response.json()["rule"] == "S2"
    assert not ScreeningTrial.objects.exists()
    assert not AuditEvent.objects.exists()


def test_25_mcg_start_needs_a_reason_s2(clock, ward_team, child):
    _, neuro = ward_team
    response = open_trial(neuro, child, first_dose_mcg="25")
    assert response.status_code == 400
    assert "S2" in response.json()["reason"][0]
    assert not ScreeningTrial.objects.exists()


def test_under_4_needs_a_neurologist_override_with_a_reason_p2(clock, ward_team, toddler):
    _, neuro = ward_team
    refused = open_trial(neuro, toddler)
    assert refused.status_code == 409
    assert refused.json()["rule"] == "P2"
    assert not ScreeningTrial.objects.exists() and not AuditEvent.objects.exists()
    opened = open_trial(neuro, toddler, override_reason="severe dystonia, family consent, MDT agreed")
    assert opened.status_code == 201
    event = AuditEvent.objects.get(action="screening.opened")
    assert "P2" in event.rules
    assert "MDT agreed" in event.reason


def test_nurse_cannot_open_a_trial(clock, ward_team, adult):
    nurse, _ = ward_team
    assert open_trial(nurse, adult).status_code == 403
    assert not ScreeningTrial.objects.exists()


def test_one_open_trial_per_patient(clock, ward_team, adult):
    _, neuro = ward_team
    open_trial(neuro, adult)
    again = open_trial(neuro, adult)
    assert again.status_code == 409
    assert ScreeningTrial.objects.count() == 1


def test_trial_on_another_ward_answers_404(clock, api_as, make_staff, other_ward, ward_team, adult):
    _, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    from wardflow.staff.models import Role

    stranger = api_as(make_staff(Role.NURSE, other_ward))
    assert stranger.get(f"/api/v1/screening-trials/{trial_id}/").status_code == 404
    assert give(stranger, trial_id, hours(0)).status_code == 404
    assert not TestDose.objects.exists()


# --- bad input changes nothing -----------------------------------------------------------------------------------


@pytest.fixture
def open_trial_id(clock, ward_team, adult):
    return open_trial(ward_team[1], adult).json()["id"]


def nothing_written_since(events_before: int):
    assert not TestDose.objects.exists()
    assert not DueCheck.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"dose_mcg": "75", "volume_ml": "1.5"}, "dose_mcg", "S1"),
        ({"volume_ml": "2"}, "volume_ml", "S1"),
        ({"injection_seconds": 45}, "injection_seconds", "S4"),
        ({"resuscitation_ready": False}, "resuscitation_ready", "S4"),
        ({"administered_at": (T0 + timedelta(minutes=10)).isoformat()}, "administered_at", None),
        ({"route": "intravenous"}, "route", None),
        ({"lot": ""}, "lot", None),
    ],
)
def test_invalid_test_dose_is_refused_naming_the_field(ward_team, open_trial_id, overrides, field, rule):
    before = AuditEvent.objects.count()
    response = give(ward_team[0], open_trial_id, hours(0), **overrides)
    assert response.status_code == 400
    assert field in response.json()
    if rule:
        assert response.json()[field][0].startswith(rule)
    nothing_written_since(before)


def test_missing_resuscitation_confirmation_is_refused(ward_team, open_trial_id):
    body = dose_body(hours(0), "50", "1")
    del body["resuscitation_ready"]
    response = ward_team[0].post(f"/api/v1/screening-trials/{open_trial_id}/doses/", body, format="json")
    assert response.status_code == 400 and "resuscitation_ready" in response.json()
    assert not TestDose.objects.exists()


def test_late_entry_of_a_dose_is_accepted_with_event_and_entry_times(clock, ward_team, open_trial_id):
    clock.move_to(hours(3))
    response = give(ward_team[0], open_trial_id, hours(0))
    assert response.status_code == 201
    assert when(response.json()["administered_at"]) == hours(0)
    event = AuditEvent.objects.get(action="test_dose.given")
    assert (event.at, event.entered_at) == (hours(0), hours(3))


def test_active_infection_blocks_a_test_dose_p1(ward_team, open_trial_id, adult):
    adult.active_infection = True
    adult.save()
    before = AuditEvent.objects.count()
    response = give(ward_team[0], open_trial_id, hours(0))
    assert response.status_code == 409
    assert response.json()["rule"] == "P1"
    nothing_written_since(before)


def test_infection_charted_mid_trial_suspends_it_until_resolved_and_resumed_p1(clock, ward_team, open_trial_id, adult):
    nurse, neuro = ward_team
    patched = nurse.patch(f"/api/v1/patients/{adult.pk}/", {"active_infection": True}, format="json")
    assert patched.status_code == 200
    assert trial_of(neuro, open_trial_id)["state"] == "suspended"
    assert AuditEvent.objects.get(action="screening.suspended").rules == ["P1"]
    assert give(nurse, open_trial_id, hours(0)).status_code == 409
    still_infected = neuro.post(
        f"/api/v1/screening-trials/{open_trial_id}/resume/", {"reason": "reviewed"}, format="json"
    )
    assert still_infected.status_code == 409 and still_infected.json()["rule"] == "P1"
    nurse.patch(f"/api/v1/patients/{adult.pk}/", {"active_infection": False}, format="json")
    resumed = neuro.post(
        f"/api/v1/screening-trials/{open_trial_id}/resume/", {"reason": "infection treated"}, format="json"
    )
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "awaiting_dose"
    assert give(nurse, open_trial_id, hours(0)).status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ashworth": "4.5"}, "ashworth_mean"),
        ({"penn": "5"}, "penn_spasm_frequency"),
        ({"spo2": "101"}, "spo2"),
        ({"heart_rate": "400"}, "heart_rate"),
        ({"temperature_c": "50"}, "temperature_c"),
        ({"signs": ["sneezing"]}, "signs"),
        ({"sedation": "asleep"}, "sedation"),
        ({"at": T0 + timedelta(minutes=6)}, "observed_at"),
    ],
)
def test_invalid_observation_is_refused_and_nothing_written(ward_team, open_trial_id, overrides, field):
    before = AuditEvent.objects.count()
    at = overrides.pop("at", hours(0))
    mapped = {"ashworth": "ashworth", "penn": "penn"}
    kwargs = {mapped.get(k, k): v for k, v in overrides.items()}
    response = chart(ward_team[0], open_trial_id, at, **kwargs)
    assert response.status_code == 400
    assert field in response.json()
    assert not Observation.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.fixture
def observed_dose(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5))
    dose_id = give(nurse, open_trial_id, hours(0)).json()["id"]
    for h in (1, 2, 3):
        chart(nurse, open_trial_id, hours(h))
    clock.move_to(hours(3.5))
    return dose_id


def test_assessment_by_a_nurse_is_refused(ward_team, observed_dose):
    response = assess(ward_team[0], observed_dose, "inadequate")
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_assessment_before_a_4_h_observation_is_refused_s6(ward_team, observed_dose):
    before = AuditEvent.objects.count()
    response = assess(ward_team[1], observed_dose, "inadequate")
    assert response.status_code == 409
    assert response.json()["rule"] == "S6"
    assert not Assessment.objects.exists()
    assert AuditEvent.objects.count() == before
    assert ScreeningTrial.objects.get().state == "observing"


def test_positive_assessment_needs_its_duration_s8(clock, ward_team, open_trial_id, observed_dose):
    clock.move_to(hours(4.1))
    chart(ward_team[0], open_trial_id, hours(4), ashworth="1")
    response = assess(ward_team[1], observed_dose, "positive")
    assert response.status_code == 400
    assert "S8" in response.json()["duration_hours"][0]
    assert not Assessment.objects.exists()


def test_a_dose_is_assessed_once(clock, ward_team, open_trial_id, observed_dose):
    clock.move_to(hours(4.1))
    chart(ward_team[0], open_trial_id, hours(4))
    assert assess(ward_team[1], observed_dose, "inadequate").status_code == 201
    again = assess(ward_team[1], observed_dose, "positive", duration_hours="6")
    assert again.status_code == 409
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.assessed").count() == 1


def test_no_second_dose_while_the_first_is_unassessed(clock, ward_team, open_trial_id, observed_dose):
    clock.move_to(hours(25))
    response = give(ward_team[0], open_trial_id, hours(25), "75", "1.5")
    assert response.status_code == 409
    assert TestDose.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_assessment_yields_one_assessment_and_one_409(allow_audit_flush, api_as, make_staff,
                                                                       make_patient, ward):  # fmt: skip
    from wardflow.staff.models import Role

    with time_machine.travel(T0, tick=False) as clock:
        nurse = api_as(make_staff(Role.NURSE, ward))
        neuros = [make_staff(Role.NEUROLOGIST, ward) for _ in range(2)]
        trial_id = open_trial(api_as(neuros[0]), make_patient(ward, "RACE")).json()["id"]
        chart(nurse, trial_id, hours(-0.5))
        dose_id = give(nurse, trial_id, hours(0)).json()["id"]
        clock.move_to(hours(4.1))
        chart(nurse, trial_id, hours(4))
        barrier = threading.Barrier(2)
        codes = []

        def decide(user):
            client = api_as(user)
            barrier.wait()
            try:
                codes.append(assess(client, dose_id, "inadequate").status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=decide, args=(u,)) for u in neuros]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(codes) == [201, 409]
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.assessed").count() == 1


# --- S10, W1, O1 ------------------------------------------------------------------------------------------------


def test_serious_adverse_event_suspends_the_trial_and_raises_an_urgent_alert_s10(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    give(nurse, open_trial_id, hours(0))
    clock.move_to(hours(2))
    response = chart(nurse, open_trial_id, hours(2), signs=["respiratory_depression"], respiratory_rate="6")
    assert response.status_code == 201
    assert trial_of(neuro, open_trial_id)["state"] == "suspended"
    alert = Alert.objects.get()
    assert (alert.severity, alert.rule, alert.target_role) == ("urgent", "S10", "neurologist")
    assert set(AuditEvent.objects.get(action="observation.charted", after__signs=["respiratory_depression"]).rules) == {
        "S5", "S10",
    }  # fmt: skip
    inbox = neuro.get("/api/v1/alerts/?state=open").json()["results"]
    assert [a["rule"] for a in inbox] == ["S10"]


def test_withdrawal_signs_raise_an_urgent_alert_with_guidance_w1(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(0), signs=["pruritus", "high_fever"])
    alert = Alert.objects.get()
    assert (alert.severity, alert.rule, alert.kind) == ("urgent", "W1", "withdrawal_signs")
    assert "oral baclofen alone" in alert.message


def test_overdose_signs_raise_an_urgent_alert_o1(clock, ward_team, open_trial_id):
    chart(ward_team[0], open_trial_id, hours(0), signs=["somnolence"], sedation="drowsy")
    alert = Alert.objects.get()
    assert (alert.rule, alert.kind) == ("O1", "overdose_signs")
    assert ScreeningTrial.objects.get().state == "awaiting_dose"


# --- due checks -------------------------------------------------------------------------------------------------


def test_a_dose_schedules_an_overdue_check_for_each_observation(ward_team, open_trial_id):
    give(ward_team[0], open_trial_id, hours(0))
    due = sorted(DueCheck.objects.filter(kind="screening.observation_overdue").values_list("due_at", flat=True))
    assert due == [hours(h) + timedelta(minutes=15) for h in range(1, 9)]


def test_dispatcher_raises_observation_overdue_when_nothing_is_charted(ward_team, open_trial_id):
    give(ward_team[0], open_trial_id, hours(0))
    dispatch_due_checks(now=hours(1) + timedelta(minutes=14))
    assert not Alert.objects.exists()
    dispatch_due_checks(now=hours(1) + timedelta(minutes=15))
    alert = Alert.objects.get()
    assert (alert.kind, alert.rule, alert.target_role, alert.due_at) == ("observation_overdue", "A1", "nurse", hours(1))
    assert "1 h observation" in alert.message


def test_dispatcher_raises_nothing_when_the_observation_was_charted_in_time(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    give(nurse, open_trial_id, hours(0))
    clock.move_to(hours(1))
    chart(nurse, open_trial_id, hours(1) - timedelta(minutes=5))
    # the observation closed its slot's check at once: the ward board now shows the 2 h observation as next
    assert DueCheck.objects.filter(state="cancelled").count() == 1
    dispatch_due_checks(now=hours(1) + timedelta(minutes=30))
    assert not Alert.objects.exists()


def test_a_late_observation_resolves_its_overdue_alert(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    give(nurse, open_trial_id, hours(0))
    dispatch_due_checks(now=hours(1.3))
    clock.move_to(hours(1.4))
    chart(nurse, open_trial_id, hours(1.2))
    assert Alert.objects.get().state == "resolved"


def test_next_rung_due_alert_after_an_inadequate_response(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))
    dose_id = give(nurse, open_trial_id, hours(0)).json()["id"]
    clock.move_to(hours(8.1))
    observe_dose(nurse, open_trial_id, hours(0))
    assess(neuro, dose_id, "inadequate")
    dispatch_due_checks(now=hours(23.9))
    assert not Alert.objects.filter(kind="next_test_dose_due").exists()
    dispatch_due_checks(now=hours(24))
    alert = Alert.objects.get(kind="next_test_dose_due")
    assert "75" in alert.message and alert.rule == "S3"


# --- listing ----------------------------------------------------------------------------------------------------


def test_listing_a_wards_open_trials_costs_constant_queries(clock, api_as, neurologist, nurse, make_patient, ward,
                                                            django_assert_max_num_queries):  # fmt: skip
    neuro, nursing = api_as(neurologist), api_as(nurse)
    for i in range(12):
        trial_id = open_trial(neuro, make_patient(ward, f"L{i}")).json()["id"]
        chart(nursing, trial_id, hours(-0.5))
        if i % 2:
            give(nursing, trial_id, hours(0))
    # token and user, role, ward ids, count, trials (patient, ward), doses (assessment), observations
    with django_assert_max_num_queries(7):
        response = nursing.get("/api/v1/screening-trials/?state=awaiting_dose,observing&ward=N3")
    assert response.json()["count"] == 12


def test_trial_state_cannot_be_set_around_the_state_machine(clock, ward_team, open_trial_id):
    from django_fsm import TransitionNotAllowed

    trial = ScreeningTrial.objects.get(pk=open_trial_id)
    with pytest.raises(AttributeError):
        trial.state = "candidate"
    with pytest.raises(TransitionNotAllowed):
        trial.conclude_dose("candidate")  # only from observing (S9)
    trial.refresh_from_db()
    assert trial.state == "awaiting_dose"


def test_cancelling_a_trial_needs_a_reason_and_closes_its_due_checks(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    give(nurse, open_trial_id, hours(0))
    no_reason = neuro.post(f"/api/v1/screening-trials/{open_trial_id}/cancel/", {"reason": " "}, format="json")
    assert no_reason.status_code == 400
    cancelled = neuro.post(f"/api/v1/screening-trials/{open_trial_id}/cancel/", {"reason": "family withdrew consent"},
                           format="json")  # fmt: skip
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert not DueCheck.objects.filter(state="pending").exists()
    assert AuditEvent.objects.get(action="screening.cancelled").reason == "family withdrew consent"
    dispatch_due_checks(now=hours(9))
    assert not Alert.objects.exists()


def test_only_a_suspended_trial_can_be_resumed(ward_team, open_trial_id):
    response = ward_team[1].post(f"/api/v1/screening-trials/{open_trial_id}/resume/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["rule"] == "S10"
