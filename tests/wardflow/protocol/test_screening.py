"""Screening rules (S1-S10) as pure functions, with property tests over whole ladders."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import AgeBand, Response, Scores, TrialState

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
LADDER = {Decimal("25"), Decimal("50"), Decimal("75"), Decimal("100")}


def walk(first_dose: Decimal, responses: list[Response]) -> tuple[list[Decimal], TrialState]:
    """Drive a trial through the rule functions only, as the services do."""
    state, doses = TrialState.AWAITING_DOSE, []
    for response in responses:
        if state != TrialState.AWAITING_DOSE:
            break
        doses.append(protocol.ladder_dose_mcg(len(doses) + 1, first_dose))
        state = protocol.state_after_assessment(len(doses), response)
    return doses, state


@given(
    first=st.sampled_from([Decimal("50"), Decimal("25")]),
    responses=st.lists(st.sampled_from(list(Response)), min_size=1, max_size=10),
)
def test_no_sequence_of_assessments_yields_more_than_three_doses_or_an_off_ladder_dose(first, responses):
    doses, state = walk(first, responses)
    assert 1 <= len(doses) <= protocol.MAX_TEST_DOSES
    assert set(doses) <= LADDER
    assert doses[1:] == [Decimal("75"), Decimal("100")][: len(doses) - 1]
    assert state in (TrialState.AWAITING_DOSE, TrialState.CANDIDATE, TrialState.NOT_CANDIDATE)


@given(responses=st.lists(st.sampled_from(list(Response)), min_size=3, max_size=3))
def test_a_trial_always_ends_in_a_candidacy_decision_within_three_doses(responses):
    _, state = walk(Decimal("50"), responses)
    assert state in (TrialState.CANDIDATE, TrialState.NOT_CANDIDATE)


@given(gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=48)))
def test_a_dose_is_never_allowed_earlier_than_24_h_after_the_previous_one_s3(gap):
    earliest = protocol.earliest_next_test_dose(T0)
    allowed = T0 + gap >= earliest
    assert allowed == (gap >= timedelta(hours=24))


def test_ladder_is_50_75_100_mcg_with_volumes_of_the_50_mcg_per_ml_solution_s1():
    assert [protocol.ladder_dose_mcg(n) for n in (1, 2, 3)] == [Decimal("50"), Decimal("75"), Decimal("100")]
    assert [protocol.ladder_volume_ml(d) for d in (Decimal("50"), Decimal("75"), Decimal("100"))] == [
        Decimal("1"),
        Decimal("1.5"),
        Decimal("2"),
    ]


def test_pediatric_start_of_25_mcg_continues_75_100_s2():
    assert [protocol.ladder_dose_mcg(n, Decimal("25")) for n in (1, 2, 3)] == [
        Decimal("25"),
        Decimal("75"),
        Decimal("100"),
    ]
    assert protocol.ladder_volume_ml(Decimal("25")) == Decimal("0.5")


def test_25_mcg_is_offered_to_pediatric_patients_only_s2():
    assert Decimal("25") in protocol.first_test_dose_choices(AgeBand.PEDIATRIC)
    assert protocol.first_test_dose_choices(AgeBand.ADULT) == (Decimal("50"),)


def test_there_is_no_fourth_test_dose():
    with pytest.raises(ValueError, match="S1"):
        protocol.ladder_dose_mcg(4)


def test_observations_fall_due_hourly_from_1_to_8_h_s5():
    assert protocol.observation_schedule(T0) == [T0 + timedelta(hours=h) for h in range(1, 9)]


def test_an_observation_counts_for_the_time_it_was_due_within_half_an_hour_a1():
    due = T0 + timedelta(hours=1)
    assert protocol.observation_fills_slot(due - timedelta(minutes=30), due)
    assert protocol.observation_fills_slot(due + timedelta(minutes=29), due)
    assert not protocol.observation_fills_slot(due + timedelta(minutes=30), due)  # that one is the next hour's
    assert not protocol.observation_fills_slot(due + timedelta(hours=4), due)


def test_assessment_needs_an_observation_at_4_h_or_later_s6():
    assert not protocol.may_be_assessed(T0, [T0 + timedelta(hours=h) for h in (1, 2, 3)])
    assert not protocol.may_be_assessed(T0, [T0 + timedelta(hours=3, minutes=59)])
    assert protocol.may_be_assessed(T0, [T0 + timedelta(hours=4)])


BASE = Scores(Decimal("3"), Decimal("3"))


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ([Scores(Decimal("2"), Decimal("3"))], Response.POSITIVE),  # Ashworth fell by 1.0
        ([Scores(Decimal("3"), Decimal("2"))], Response.POSITIVE),  # Penn fell by 1
        ([Scores(Decimal("2.5"), Decimal("2.5"))], Response.INADEQUATE),
        ([Scores(Decimal("3"), Decimal("3")), Scores(Decimal("1.5"), Decimal("3"))], Response.POSITIVE),
    ],
)
def test_suggestion_thresholds_s7(window, expected):
    assert protocol.suggest_response(BASE, window).response == expected


def test_no_suggestion_without_a_baseline_or_a_window_observation_s7():
    assert protocol.suggest_response(None, [BASE]).response is None
    assert protocol.suggest_response(BASE, []).response is None


@given(
    drop_a=st.decimals(min_value=-4, max_value=4, places=2),
    drop_p=st.decimals(min_value=-4, max_value=4, places=1),
)
def test_suggestion_is_positive_exactly_at_the_policy_thresholds(drop_a, drop_p):
    baseline = Scores(Decimal("4"), Decimal("4"))
    window = [Scores(Decimal("4") - drop_a, Decimal("4") - drop_p)]
    expected = drop_a >= Decimal("1.0") or drop_p >= Decimal("1")
    assert (protocol.suggest_response(baseline, window).response == Response.POSITIVE) == expected


@pytest.mark.parametrize(
    ("number", "response", "state"),
    [
        (1, Response.INADEQUATE, TrialState.AWAITING_DOSE),
        (2, Response.INADEQUATE, TrialState.AWAITING_DOSE),
        (3, Response.INADEQUATE, TrialState.NOT_CANDIDATE),
        (1, Response.POSITIVE, TrialState.CANDIDATE),
        (3, Response.POSITIVE, TrialState.CANDIDATE),
    ],
)
def test_state_after_assessment_s9(number, response, state):
    assert protocol.state_after_assessment(number, response) == state


@pytest.mark.parametrize("sign", ["respiratory_depression", "seizure", "loss_of_consciousness"])
def test_serious_adverse_events_stop_the_trial_s10(sign):
    assert protocol.stops_trial({sign})


def test_other_signs_do_not_stop_the_trial():
    assert not protocol.stops_trial({"nausea", "drowsiness", "pruritus"})
