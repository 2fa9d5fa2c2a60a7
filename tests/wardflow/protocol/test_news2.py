"""V1 (NEWS2 early warning score) and V2 (pre-dose check) as pure functions: every band edge of the scoring table,
the risk thresholds, and property tests that the aggregate is the sum of its parameters and the risk follows it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import News2Risk, Sedation

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
NORMAL = {
    "respiratory_rate": Decimal("14"),
    "spo2": Decimal("98"),
    "on_oxygen": False,
    "systolic_bp": Decimal("124"),
    "heart_rate": Decimal("72"),
    "sedation": Sedation.ALERT,
    "temperature_c": Decimal("36.8"),
}
# The dangerous baseline of the V2 tests: RR 3 + SpO2 3 + pulse 1 + systolic BP 3 + temperature 1.
DANGEROUS = {**NORMAL, "respiratory_rate": Decimal("6"), "spo2": Decimal("84"), "heart_rate": Decimal("48"),
             "systolic_bp": Decimal("88"), "temperature_c": Decimal("38.9")}  # fmt: skip

# The protocol's V1 scoring table, both sides of every band edge (and fractional readings between bands).
EDGES = [
    ("respiratory_rate", "8", 3), ("respiratory_rate", "8.5", 1), ("respiratory_rate", "9", 1),
    ("respiratory_rate", "11", 1), ("respiratory_rate", "12", 0), ("respiratory_rate", "20", 0),
    ("respiratory_rate", "21", 2), ("respiratory_rate", "24", 2), ("respiratory_rate", "25", 3),
    ("spo2", "91", 3), ("spo2", "92", 2), ("spo2", "93", 2), ("spo2", "94", 1), ("spo2", "95", 1), ("spo2", "96", 0),
    ("spo2", "100", 0),
    ("systolic_bp", "90", 3), ("systolic_bp", "91", 2), ("systolic_bp", "100", 2), ("systolic_bp", "101", 1),
    ("systolic_bp", "110", 1), ("systolic_bp", "111", 0), ("systolic_bp", "219", 0), ("systolic_bp", "220", 3),
    ("heart_rate", "40", 3), ("heart_rate", "41", 1), ("heart_rate", "50", 1), ("heart_rate", "51", 0),
    ("heart_rate", "90", 0), ("heart_rate", "91", 1), ("heart_rate", "110", 1), ("heart_rate", "111", 2),
    ("heart_rate", "130", 2), ("heart_rate", "131", 3),
    ("temperature_c", "35.0", 3), ("temperature_c", "35.05", 1), ("temperature_c", "35.1", 1),
    ("temperature_c", "36.0", 1), ("temperature_c", "36.1", 0), ("temperature_c", "38.0", 0),
    ("temperature_c", "38.1", 1), ("temperature_c", "39.0", 1), ("temperature_c", "39.1", 2),
]  # fmt: skip


def scores(**changed) -> dict[str, int]:
    return protocol.news2_parameters(**{**NORMAL, **changed})


@pytest.mark.parametrize(("parameter", "value", "expected"), EDGES)
def test_every_band_edge_scores_as_the_table_says_v1(parameter, value, expected):
    parameters = scores(**{parameter: Decimal(value)})
    assert parameters[parameter] == expected
    assert sum(parameters.values()) == expected  # nothing else moved


@pytest.mark.parametrize(("on_oxygen", "expected"), [(False, 0), (True, 2)])
def test_supplemental_oxygen_scores_2_v1(on_oxygen, expected):
    assert scores(on_oxygen=on_oxygen)["on_oxygen"] == expected


@pytest.mark.parametrize(("sedation", "expected"), [(s, 0 if s == Sedation.ALERT else 3) for s in Sedation])
def test_consciousness_other_than_alert_scores_3_v1(sedation, expected):
    assert scores(sedation=sedation)["sedation"] == expected


def test_the_dangerous_baseline_scores_11_high_v1():
    result = protocol.news2(**DANGEROUS)
    assert result.score == 3 + 3 + 1 + 3 + 1 == 11
    assert result.risk == News2Risk.HIGH
    assert result.flagged == ("respiratory_rate", "spo2", "systolic_bp", "heart_rate", "temperature_c")
    assert result.as_dict()["parameters"]["on_oxygen"] == 0


@pytest.mark.parametrize(
    ("changed", "score", "risk"),
    [
        ({}, 0, News2Risk.LOW),
        ({"respiratory_rate": Decimal("21"), "spo2": Decimal("94"), "heart_rate": Decimal("91")}, 4, News2Risk.LOW),
        ({"respiratory_rate": Decimal("25")}, 3, News2Risk.LOW_MEDIUM),  # 3 in one parameter
        ({"sedation": Sedation.DROWSY}, 3, News2Risk.LOW_MEDIUM),
        ({"respiratory_rate": Decimal("21"), "spo2": Decimal("93"), "heart_rate": Decimal("91")}, 5, News2Risk.MEDIUM),
        ({"respiratory_rate": Decimal("25"), "on_oxygen": True, "heart_rate": Decimal("91")}, 6, News2Risk.MEDIUM),
        ({"respiratory_rate": Decimal("25"), "spo2": Decimal("93"), "temperature_c": Decimal("36.0")}, 6,
         News2Risk.MEDIUM),
        ({"respiratory_rate": Decimal("25"), "spo2": Decimal("93"), "heart_rate": Decimal("111")}, 7, News2Risk.HIGH),
    ],
)  # fmt: skip
def test_the_risk_follows_the_aggregate_and_any_single_3_v1(changed, score, risk):
    result = protocol.news2(**{**NORMAL, **changed})
    assert (result.score, result.risk) == (score, risk)


def test_band_edges_and_thresholds_are_policy_values_v1():
    policy = protocol.DEFAULT_POLICY.with_overrides(
        {"news2_respiratory_rate": ((10, 11, 20, 24), (3, 1, 0, 2, 3)), "news2_high_from": 6}
    )
    result = protocol.news2(policy=policy, **{**NORMAL, "respiratory_rate": Decimal("9"), "spo2": Decimal("92"),
                                              "heart_rate": Decimal("41")})  # fmt: skip
    assert result.parameters["respiratory_rate"] == 3
    assert (result.score, result.risk) == (6, News2Risk.HIGH)


readings = st.fixed_dictionaries({
    "respiratory_rate": st.decimals(min_value=0, max_value=80, places=1),
    "spo2": st.decimals(min_value=0, max_value=100, places=1),
    "on_oxygen": st.booleans(),
    "systolic_bp": st.decimals(min_value=40, max_value=300, places=1),
    "heart_rate": st.decimals(min_value=20, max_value=250, places=1),
    "sedation": st.sampled_from(list(Sedation)),
    "temperature_c": st.decimals(min_value=25, max_value=45, places=2),
})  # fmt: skip


@given(values=readings)
def test_the_aggregate_is_the_sum_of_the_parameters_and_the_risk_follows_the_thresholds_v1(values):
    result = protocol.news2(**values)
    assert set(result.parameters) == set(protocol.NEWS2_LABELS)
    assert all(0 <= points <= 3 for points in result.parameters.values())
    assert result.score == sum(result.parameters.values())
    if result.score >= 7:
        expected = News2Risk.HIGH
    elif result.score >= 5:
        expected = News2Risk.MEDIUM
    elif 3 in result.parameters.values():
        expected = News2Risk.LOW_MEDIUM
    else:
        expected = News2Risk.LOW
    assert result.risk == expected
    assert set(result.flagged) == {name for name, points in result.parameters.items() if points}


@given(values=readings, parameter=st.sampled_from(["respiratory_rate", "spo2", "systolic_bp", "heart_rate"]),
       step=st.decimals(min_value=Decimal("0.1"), max_value=20, places=1))  # fmt: skip
def test_a_value_further_from_normal_never_scores_less_v1(values, parameter, step):
    """Moving a reading away from the normal band (downwards below it, upwards above it) never lowers its score."""
    normal = NORMAL[parameter]
    value = values[parameter]
    further = value - step if value <= normal else value + step
    assert scores(**{parameter: further})[parameter] >= scores(**{parameter: value})[parameter]


@given(risk=st.sampled_from(list(News2Risk)), open_risks=st.lists(st.sampled_from(list(News2Risk)), max_size=3))
def test_an_alert_is_raised_unless_one_of_the_same_or_a_higher_risk_is_open_v1(risk, open_risks):
    order = protocol.NEWS2_RISK_ORDER.index
    needed = protocol.news2_alert_needed(risk, open_risks)
    if risk == News2Risk.LOW:
        assert not needed
    else:
        assert needed == all(order(other) < order(risk) for other in open_risks)


def test_the_alert_names_the_score_the_abnormal_parameters_and_the_emergency_response_v1():
    message = protocol.news2_alert_message(protocol.news2(**DANGEROUS))
    assert message.startswith(
        "NEWS2 11 (high risk): respiratory rate 3, SpO2 3, systolic BP 3, pulse 1, temperature 1."
    )
    assert "emergency team" in message


def test_a_baseline_counts_from_60_min_before_the_dose_up_to_the_dose_v2():
    assert protocol.predose_window(T0) == (T0 - timedelta(minutes=60), T0)


def test_without_a_baseline_the_pre_dose_check_refuses_v2():
    check = protocol.predose_check(None, None, None)
    assert not check.ok
    assert check.problems == (
        "V2: no baseline observation was charted in the 60 min before the dose; chart one first.",
    )


@pytest.mark.parametrize(
    ("changed", "ok"),
    [
        ({}, True),
        ({"respiratory_rate": Decimal("21"), "spo2": Decimal("94"), "on_oxygen": False}, True),  # NEWS2 3
        ({"respiratory_rate": Decimal("25"), "on_oxygen": True}, False),  # NEWS2 5
        ({"respiratory_rate": Decimal("10")}, True),  # scores 1, not under 10
        ({"respiratory_rate": Decimal("9.9")}, False),  # under 10, although NEWS2 is only 1
    ],
)
def test_a_baseline_news2_of_5_or_a_respiratory_rate_under_10_refuses_the_dose_v2(changed, ok):
    values = {**NORMAL, **changed}
    check = protocol.predose_check(T0 - timedelta(minutes=30), protocol.news2(**values), values["respiratory_rate"])
    assert check.ok == ok
    assert all(problem.startswith("V2: ") for problem in check.problems)


def test_the_dangerous_baseline_is_refused_for_its_score_and_its_respiratory_rate_v2():
    check = protocol.predose_check(T0 - timedelta(minutes=30), protocol.news2(**DANGEROUS), Decimal("6"))
    assert check.problems == (
        "V2: the baseline NEWS2 is 11 (high risk); a test dose needs a baseline NEWS2 under 5.",
        "V2: the baseline respiratory rate is 6/min; a test dose needs 10/min or more.",
    )
