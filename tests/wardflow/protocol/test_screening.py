"""Screening rules (S1-S11) and the signs charted (S10, O1, W1) as pure functions, with property tests over whole
ladders, the patient's doses across trials and every combination of signs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import AgeBand, Response, Scores, Sedation, Severity, SignsMeaning, TrialState

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


@pytest.mark.parametrize("sign", ["respiratory_depression", "seizure", "loss_of_consciousness", "coma"])
def test_serious_adverse_events_stop_the_trial_s10(sign):
    assert protocol.serious_adverse_events([sign], Sedation.ALERT) == (sign,)


def test_unrousable_sedation_is_a_serious_adverse_event_s10():
    assert protocol.serious_adverse_events([], Sedation.UNROUSABLE) == ("sedation unrousable",)
    assert protocol.serious_adverse_events([], Sedation.ROUSABLE) == ()


def test_other_signs_do_not_stop_the_trial():
    assert protocol.serious_adverse_events(["nausea", "drowsiness", "pruritus"], Sedation.DROWSY) == ()


# --- S3/S11: spacing over all of the patient's test doses ---------------------------------------------------------

ATTEMPTS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=6 * 24 * 3600)),
    max_size=12,
)


@given(attempts=ATTEMPTS)
def test_no_test_dose_is_allowed_within_24_h_of_any_earlier_dose_of_the_patient_whatever_the_trials_s3(attempts):
    """Attempts are (trial, seconds from T0) in the order they are charted, late entries included; each is checked
    against every dose the patient was given, in whichever trial."""
    given_by_trial: dict[int, list[datetime]] = {}
    for trial, seconds in attempts:
        at = T0 + timedelta(seconds=seconds)
        everything = [t for times in given_by_trial.values() for t in times]
        earliest = protocol.earliest_test_dose(everything)
        if earliest is None or at >= earliest:
            given_by_trial.setdefault(trial, []).append(at)
    doses = sorted(t for times in given_by_trial.values() for t in times)
    assert all(later - earlier >= timedelta(hours=24) for earlier, later in pairwise(doses))


@given(attempts=ATTEMPTS)
def test_the_next_dose_is_due_24_h_after_the_patients_latest_dose_in_any_trial_s3(attempts):
    given_at = [T0 + timedelta(seconds=seconds) for _, seconds in attempts]
    latest = max(given_at, default=None)
    earliest = protocol.earliest_test_dose(given_at)
    assert earliest == (None if latest is None else latest + timedelta(hours=24))


def test_the_spacing_is_to_the_second_s3():
    earliest = protocol.earliest_test_dose([T0 - timedelta(days=3), T0])
    assert T0 + timedelta(hours=24) - timedelta(seconds=1) < earliest == T0 + timedelta(hours=24)


# --- S8 ------------------------------------------------------------------------------------------------------------


@given(hours=st.decimals(min_value=-24, max_value=999, places=1))
def test_a_positive_response_lasts_more_than_0_h_s8(hours):
    problem = protocol.response_duration_problem(hours)
    assert (problem is None) == (hours > 0)
    assert problem is None or problem.startswith("S8:")


def test_a_positive_response_without_a_duration_is_a_problem_s8():
    assert protocol.response_duration_problem(None).startswith("S8:")


# --- S10, O1, W1: what charted signs call for -----------------------------------------------------------------------

SIGNS = st.lists(st.sampled_from(sorted(protocol.ALL_SIGNS)), unique=True, max_size=6)
SEDATION = st.sampled_from(list(Sedation))


@given(signs=SIGNS, sedation=SEDATION)
def test_overdose_guidance_without_a_pump_never_mentions_the_reservoir_o1(signs, sedation):
    alert = protocol.overdose_signs_alert(signs, sedation, pump_in_place=False)
    assert alert is None or "reservoir" not in alert.message


@given(signs=SIGNS, sedation=SEDATION)
def test_a_serious_adverse_event_without_a_pump_is_s10_resuscitation_s10(signs, sedation):
    alert = protocol.overdose_signs_alert(signs, sedation, pump_in_place=False)
    if protocol.serious_adverse_events(signs, sedation):
        assert (alert.rule, alert.meaning, alert.severity) == ("S10", SignsMeaning.SERIOUS_ADVERSE_EVENT, "urgent")
        assert "airway, breathing and circulation" in alert.message and "emergency team" in alert.message
    else:
        assert alert is None or alert.rule == "O1"


@given(signs=SIGNS, sedation=SEDATION)
def test_overdose_signs_with_a_pump_in_place_are_o1_with_the_reservoir_o1(signs, sedation):
    alert = protocol.overdose_signs_alert(signs, sedation, pump_in_place=True)
    if protocol.OVERDOSE_SIGNS & set(signs) or sedation == Sedation.UNROUSABLE:
        assert (alert.rule, alert.severity) == ("O1", Severity.URGENT)
        assert "consider emptying the pump reservoir" in alert.message
    else:
        assert alert is None


@given(signs=SIGNS, infusion_started=st.booleans())
def test_withdrawal_list_signs_are_withdrawal_only_once_the_infusion_has_started_w1(signs, infusion_started):
    alert = protocol.withdrawal_signs_alert(signs, infusion_started=infusion_started)
    charted = protocol.WITHDRAWAL_SIGNS & set(signs)
    if not charted:
        assert alert is None
    elif infusion_started:
        assert (alert.meaning, alert.severity, alert.rule) == (SignsMeaning.WITHDRAWAL, Severity.URGENT, "W1")
        assert "Restore intrathecal delivery" in alert.message
    else:
        assert (alert.meaning, alert.severity, alert.rule) == (
            SignsMeaning.BOLUS_ADVERSE_EFFECT, Severity.WARNING, "W1",
        )  # fmt: skip
        assert "restore" not in alert.message.lower()
    assert alert is None or set(alert.charted) == charted


@given(
    explanted_seconds_ago=st.lists(st.none() | st.integers(min_value=-30, max_value=60 * 24 * 3600), max_size=3),
)
def test_the_infusion_has_started_with_a_pump_in_place_or_one_explanted_within_14_days_w1(explanted_seconds_ago):
    """Each pump's explant, in seconds before T0 (None: still in place; negative: after T0)."""
    explanted_at = [None if s is None else T0 - timedelta(seconds=s) for s in explanted_seconds_ago]
    window = timedelta(days=14)
    expected = any(e is None or T0 - e <= window for e in explanted_at)
    assert protocol.intrathecal_infusion_started(explanted_at, T0) == expected


def test_withdrawal_applies_until_14_days_after_an_explant_to_the_second_w1():
    explanted = T0 - timedelta(days=14)
    assert protocol.intrathecal_infusion_started([explanted], T0)
    assert not protocol.intrathecal_infusion_started([explanted - timedelta(seconds=1)], T0)
    assert not protocol.intrathecal_infusion_started([], T0)
