"""D4 in screening, through the HTTP API as the ward's roles: an observation or a test dose marked entered in error
stays, flagged with who, when and why, and no computation counts it any more (S1, S3, S6, S7)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.models import DueCheck
from screening.models import Assessment, Observation, ScreeningTrial, TestDose
from tests.screening.support import T0, assess, chart, give, hours, open_trial, trial_of
from wardflow.audit.models import AuditEvent
from wardflow.protocol import TrialState
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def mark_observation(client, observation_id, reason="charted on the wrong patient"):
    return client.post(f"/api/v1/observations/{observation_id}/entered-in-error/", {"reason": reason}, format="json")


def mark_dose(client, dose_id, reason="the injection was not given: needle dislodged"):
    return client.post(f"/api/v1/test-doses/{dose_id}/entered-in-error/", {"reason": reason}, format="json")


def given(nurse, trial_id, at, mcg="50", ml="1"):
    """A test dose after its baseline, charted 10 min before it (V2)."""
    assert chart(nurse, trial_id, at - timedelta(minutes=10)).status_code == 201
    response = give(nurse, trial_id, at, mcg, ml)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def charted(nurse, trial_id, at, ashworth="3", penn="3"):
    response = chart(nurse, trial_id, at, ashworth, penn)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def corrections(action):
    return AuditEvent.objects.filter(action=action)


@pytest.fixture
def four_hour_observation(clock, ward_team, open_trial_id):
    """Dose 1 given at T0 after a baseline of Ashworth 3; its only 4 h+ observation, at 4 h, Ashworth 1 (a
    positive suggestion, S7); the clock at 4.5 h."""
    nurse, _ = ward_team
    dose_id = given(nurse, open_trial_id, hours(0))
    clock.move_to(hours(4.5))
    return dose_id, charted(nurse, open_trial_id, hours(4), ashworth="1")


# --- observations -----------------------------------------------------------------------------------------------


def test_an_observation_in_error_stays_unchanged_flagged_with_who_when_and_why(clock, ward_team, nurse,
                                                                              four_hour_observation):  # fmt: skip
    _, observation_id = four_hour_observation
    response = mark_observation(ward_team[0], observation_id)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["entered_in_error"], body["entered_in_error_by"], body["entered_in_error_reason"]) == (
        True, "nina", "charted on the wrong patient",
    )  # fmt: skip
    assert body["entered_in_error_at"] == "2026-11-02T12:30:00Z"
    observation = Observation.objects.get(pk=observation_id)
    assert (observation.observed_at, observation.ashworth_mean) == (hours(4), Decimal("1.00"))
    event = corrections("observation.entered_in_error").get()
    assert (event.actor, event.role, event.reason, event.rules) == (nurse, "nurse", "charted on the wrong patient",
                                                                    ["D4"])  # fmt: skip
    assert (event.subject_id, event.before, event.after["entered_in_error"]) == (
        str(observation_id), {"entered_in_error": False}, True,
    )  # fmt: skip


def test_the_only_4_h_observation_in_error_no_longer_allows_the_assessment_s6(clock, ward_team,
                                                                               four_hour_observation):  # fmt: skip
    nurse, neuro = ward_team
    dose_id, observation_id = four_hour_observation
    assert mark_observation(nurse, observation_id).status_code == 200
    response = assess(neuro, dose_id, "positive", duration_hours="6")
    assert response.status_code == 409
    assert response.json()["rule"] == "S6"
    assert not Assessment.objects.exists()
    assert trial_of(neuro, TestDose.objects.get(pk=dose_id).trial_id)["state"] == "observing"


def test_the_observation_that_made_the_suggestion_positive_no_longer_counts_s7(clock, ward_team, open_trial_id,
                                                                               four_hour_observation):  # fmt: skip
    nurse, neuro = ward_team
    _, observation_id = four_hour_observation
    charted(nurse, open_trial_id, hours(4.5))  # Ashworth 3, as at baseline
    assert trial_of(neuro, open_trial_id)["suggestion"]["response"] == "positive"
    assert mark_observation(nurse, observation_id).status_code == 200
    suggestion = trial_of(neuro, open_trial_id)["suggestion"]
    assert suggestion["response"] == "inadequate"
    assert "Ashworth 0" in suggestion["reason"]


def test_a_baseline_entered_in_error_is_no_baseline_s7(clock, ward_team, open_trial_id, four_hour_observation):
    neuro = ward_team[1]
    for baseline in Observation.objects.filter(observed_at__lt=hours(0)):
        assert mark_observation(neuro, baseline.pk).status_code == 200
    suggestion = trial_of(neuro, open_trial_id)["suggestion"]
    assert suggestion["response"] is None
    assert "no baseline" in suggestion["reason"]


def test_an_observation_already_in_error_answers_409_and_keeps_the_first_reason(clock, ward_team,
                                                                               four_hour_observation):  # fmt: skip
    nurse, neuro = ward_team
    _, observation_id = four_hour_observation
    mark_observation(nurse, observation_id)
    response = mark_observation(neuro, observation_id, reason="another reason")
    assert response.status_code == 409
    assert response.json()["rule"] == "D4"
    assert Observation.objects.get(pk=observation_id).entered_in_error_reason == "charted on the wrong patient"
    assert corrections("observation.entered_in_error").count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_blank_reason_is_refused_and_nothing_written(clock, ward_team, four_hour_observation, reason):
    _, observation_id = four_hour_observation
    response = mark_observation(ward_team[0], observation_id, reason=reason)
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Observation.objects.get(pk=observation_id).entered_in_error_at is None
    assert not corrections("observation.entered_in_error").exists()


def test_another_wards_observation_answers_404_and_nothing_written(clock, api_as, make_staff, other_ward,
                                                                   four_hour_observation):  # fmt: skip
    _, observation_id = four_hour_observation
    stranger = api_as(make_staff(Role.NURSE, other_ward))
    assert mark_observation(stranger, observation_id).status_code == 404
    assert Observation.objects.get(pk=observation_id).entered_in_error_at is None
    assert not corrections("observation.entered_in_error").exists()


def test_an_administrator_may_not_mark_records_entered_in_error(clock, api_as, administrator, four_hour_observation):
    dose_id, observation_id = four_hour_observation
    admin = api_as(administrator)
    assert mark_observation(admin, observation_id).status_code == 403
    assert mark_dose(admin, dose_id).status_code == 403
    assert not Observation.objects.filter(entered_in_error_at__isnull=False).exists()
    assert not TestDose.objects.filter(entered_in_error_at__isnull=False).exists()


# --- test doses -------------------------------------------------------------------------------------------------


def test_the_dose_under_observation_entered_in_error_returns_the_trial_to_its_rung_s1(clock, ward_team, nurse,
                                                                                     open_trial_id):  # fmt: skip
    nurse_client, neuro = ward_team
    dose_id = given(nurse_client, open_trial_id, hours(0))
    clock.move_to(hours(1))
    response = mark_dose(nurse_client, dose_id)
    assert response.status_code == 200, response.json()
    assert (response.json()["entered_in_error"], response.json()["entered_in_error_by"]) == (True, "nina")
    trial = trial_of(neuro, open_trial_id)
    assert (trial["state"], trial["next_dose_number"], trial["next_dose_mcg"]) == ("awaiting_dose", 1, "50.0")
    assert trial["doses"][0]["entered_in_error_reason"] == "the injection was not given: needle dislodged"
    event = corrections("test_dose.entered_in_error").get()
    assert (event.actor, event.rules, event.before["trial_state"], event.after["trial_state"]) == (
        nurse, ["D4"], "observing", "awaiting_dose",
    )  # fmt: skip


def test_the_rung_of_a_dose_entered_in_error_takes_the_dose_actually_given_s1(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    dose_id = given(nurse, open_trial_id, hours(0))
    clock.move_to(hours(1))
    mark_dose(nurse, dose_id)
    again = TestDose.objects.get(pk=given(nurse, open_trial_id, hours(1)))
    assert again.number == 1
    doses = TestDose.objects.filter(trial=open_trial_id).order_by("id")
    assert [(d.number, d.administered_at, d.entered_in_error) for d in doses] == [
        (1, hours(0), True), (1, hours(1), False),
    ]  # fmt: skip
    assert trial_of(neuro, open_trial_id)["state"] == "observing"


def test_a_dose_entered_in_error_no_longer_spaces_the_next_trials_first_dose_s3(clock, ward_team, open_trial_id,
                                                                               adult):  # fmt: skip
    nurse, neuro = ward_team
    dose_id = given(nurse, open_trial_id, hours(0))
    clock.move_to(hours(2))
    assert neuro.post(f"/api/v1/screening-trials/{open_trial_id}/cancel/", {"reason": "wrong patient"},
                      format="json").status_code == 200  # fmt: skip
    new_trial = open_trial(neuro, adult).json()
    assert new_trial["next_dose_due_at"] is not None  # S3: 24 h after the dose charted
    assert mark_dose(nurse, dose_id).status_code == 200
    assert trial_of(neuro, new_trial["id"])["next_dose_due_at"] is None
    assert given(nurse, new_trial["id"], hours(2)) is not None
    assert ScreeningTrial.objects.get(pk=open_trial_id).state == TrialState.CANCELLED


def test_a_dose_entered_in_error_cancels_the_checks_it_scheduled(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    dose_id = given(nurse, open_trial_id, hours(0))
    dose_checks = DueCheck.objects.filter(subject_type="screening.testdose", subject_id=str(dose_id))
    assert dose_checks.filter(state="pending").count() == 8
    clock.move_to(hours(1))
    mark_dose(nurse, dose_id)
    assert not dose_checks.filter(state="pending").exists()
    assert dose_checks.count() == 8  # closed, not deleted


def test_an_assessed_dose_cannot_be_in_error_until_its_assessment_is_corrected_d4(clock, ward_team,
                                                                                  four_hour_observation):  # fmt: skip
    nurse, neuro = ward_team
    dose_id, _ = four_hour_observation
    assert assess(neuro, dose_id, "inadequate").status_code == 201
    response = mark_dose(nurse, dose_id)
    assert response.status_code == 409
    assert (response.json()["rule"], "assessment must be corrected first" in response.json()["detail"]) == ("D4", True)
    assert TestDose.objects.get(pk=dose_id).entered_in_error_at is None
    assert not corrections("test_dose.entered_in_error").exists()


def test_a_dose_entered_in_error_cannot_be_assessed(clock, ward_team, four_hour_observation):
    nurse, neuro = ward_team
    dose_id, _ = four_hour_observation
    mark_dose(nurse, dose_id)
    response = assess(neuro, dose_id, "positive", duration_hours="6")
    assert response.status_code == 409
    assert not Assessment.objects.exists()


def test_another_wards_test_dose_answers_404_and_nothing_written(clock, api_as, make_staff, other_ward,
                                                                 four_hour_observation):  # fmt: skip
    dose_id, _ = four_hour_observation
    stranger = api_as(make_staff(Role.NEUROLOGIST, other_ward))
    assert mark_dose(stranger, dose_id).status_code == 404
    assert TestDose.objects.get(pk=dose_id).entered_in_error_at is None
    assert not corrections("test_dose.entered_in_error").exists()


def test_a_blank_reason_for_a_dose_is_refused_and_nothing_written(clock, ward_team, four_hour_observation):
    dose_id, _ = four_hour_observation
    response = mark_dose(ward_team[0], dose_id, reason=" ")
    assert (response.status_code, response.json()["rule"]) == (400, "D4")
    assert TestDose.objects.get(pk=dose_id).entered_in_error_at is None
    assert ScreeningTrial.objects.get().state == TrialState.OBSERVING
    assert not corrections("test_dose.entered_in_error").exists()


def test_a_dose_already_entered_in_error_answers_409(clock, ward_team, four_hour_observation):
    nurse, neuro = ward_team
    dose_id, _ = four_hour_observation
    mark_dose(nurse, dose_id)
    response = mark_dose(neuro, dose_id)
    assert (response.status_code, response.json()["rule"]) == (409, "D4")
    assert corrections("test_dose.entered_in_error").count() == 1


def test_listing_trials_with_records_in_error_costs_constant_queries(clock, api_as, neurologist, nurse, make_patient,
                                                                     ward, django_assert_max_num_queries):  # fmt: skip
    neuro, nursing = api_as(neurologist), api_as(nurse)
    for i in range(6):
        trial_id = open_trial(neuro, make_patient(ward, f"E{i}")).json()["id"]
        mark_dose(nursing, given(nursing, trial_id, T0))
    # token and user, role, ward ids, count, trials (patient, ward), doses (assessment, who marked), observations
    with django_assert_max_num_queries(7):
        response = nursing.get("/api/v1/screening-trials/?ward=N3")
    assert [d["entered_in_error_by"] for t in response.json()["results"] for d in t["doses"]] == ["nina"] * 6
