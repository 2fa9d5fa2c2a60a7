"""The 2026.2 dose-change rules as pure functions: the allowed range a refusal states (T4), the taper (T11), the
restart after a stop (T14), the refill adjustment's window (T5), the spacing to the second (T3) and the lack of
response (T10)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import AgeBand, Band, DoseChangeKind, Policy, SpasticityOrigin

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
active_doses = st.decimals(min_value=Decimal("1"), max_value=Decimal("5000"), places=2)
banded_kinds = st.sampled_from(
    [
        DoseChangeKind.TITRATION,
        DoseChangeKind.REFILL_ADJUSTMENT,
        DoseChangeKind.ADVERSE_EFFECT_REDUCTION,
        DoseChangeKind.DISCONTINUATION,
    ]
)
bands = st.builds(
    protocol.allowed_band, banded_kinds, st.sampled_from(list(SpasticityOrigin)), st.sampled_from(list(AgeBand))
)


def spinal_adult_titration() -> Band:
    return protocol.allowed_band(DoseChangeKind.TITRATION, SpasticityOrigin.SPINAL, AgeBand.ADULT)


# --- T4: the allowed range a refusal states ---------------------------------------------------------------------


@given(active=active_doses, band=bands)
def test_the_advertised_maximum_and_minimum_are_always_accepted_t4(active, band):
    low, high = protocol.allowed_range_mcg(active, band)
    for figure in (low, high):
        check = protocol.check_band(active, figure, band)
        assert not check.beyond_band
        assert check.notices == ()  # inside the band, not merely below its near end
        assert figure == figure.quantize(Decimal("0.01"))
        assert (figure > active) if band.max_percent > 0 else (figure < active)  # a step in the band's direction


@given(active=active_doses, band=bands)
def test_one_cent_beyond_the_advertised_far_end_is_refused_t4(active, band):
    low, high = protocol.allowed_range_mcg(active, band)
    far_outside = high + Decimal("0.01") if band.max_percent > 0 else low - Decimal("0.01")
    assert protocol.check_band(active, far_outside, band).beyond_band  # the advertised figure is the last one accepted


def test_after_a_reduction_to_83_33_the_maximum_is_rounded_down_and_the_minimum_up_t4():
    check = protocol.check_band(Decimal("83.33"), Decimal("108.33"), spinal_adult_titration())
    assert check.beyond_band  # 108.33 is 30.0012 % above 83.33
    assert (check.allowed_min_mcg, check.allowed_max_mcg) == (Decimal("91.67"), Decimal("108.32"))
    assert not protocol.check_band(Decimal("83.33"), Decimal("108.32"), spinal_adult_titration()).beyond_band


def test_the_refusal_message_never_shows_the_limit_as_the_percent_asked_t4():
    band = spinal_adult_titration()
    check = protocol.check_band(Decimal("83.33"), Decimal("108.33"), band)
    message = protocol.beyond_band_message(Decimal("83.33"), check, band)
    assert message.startswith("T4: a change of 30.01 % is beyond the T3 band")
    assert "allowed: 91.67 to 108.32 mcg/day" in message


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        (DoseChangeKind.TITRATION, "T4"),
        (DoseChangeKind.REFILL_ADJUSTMENT, "T5"),
        (DoseChangeKind.ADVERSE_EFFECT_REDUCTION, "T6"),
        (DoseChangeKind.DISCONTINUATION, "T11"),
    ],
)
def test_each_band_is_refused_under_its_rule_t4_t5_t6_t11(kind, rule):
    band = protocol.allowed_band(kind, SpasticityOrigin.SPINAL, AgeBand.ADULT)
    assert protocol.refusal_rule(band) == rule


# --- T11: the taper ---------------------------------------------------------------------------------------------


@given(active=active_doses, fraction=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2))
def test_a_taper_step_lowers_the_dose_by_at_most_20_percent_t11(active, fraction):
    new = (active * fraction).quantize(Decimal("0.01"))
    if new == 0:
        return
    step = protocol.taper_step(active, new, None, T0)
    assert step.allowed_now and step.band == protocol.TAPER_BAND
    assert protocol.check_band(active, new, step.band).beyond_band == (new < active * Decimal("0.8"))


@given(active=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2))
def test_the_final_step_to_zero_is_taken_from_50_mcg_per_day_or_below_t11(active):
    step = protocol.taper_step(active, Decimal("0"), None, T0)
    assert step.band is None  # the final step is not a percentage step
    assert step.final_step_too_high == (active > Decimal("50"))
    assert step.allowed_now == (active <= Decimal("50"))


def test_the_final_step_limit_is_a_policy_value_t11():
    policy = Policy(taper_final_step_max_mcg=Decimal("30"))
    assert protocol.taper_step(Decimal("40"), Decimal("0"), None, T0, policy).final_step_too_high
    assert not protocol.taper_step(Decimal("30"), Decimal("0"), None, T0, policy).final_step_too_high


@given(since=st.integers(min_value=0, max_value=3 * 24 * 3600))
def test_one_taper_step_per_24_h_after_the_previous_became_active_t11(since):
    step = protocol.taper_step(Decimal("80"), Decimal("70"), T0, T0 + timedelta(seconds=since))
    assert (step.not_before is not None) == (since < 24 * 3600)
    assert step.not_before in (None, T0 + timedelta(hours=24))


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_an_emergency_stop_needs_a_documented_reason_t11(reason):
    assert protocol.emergency_stop_problem(reason).startswith("T11")
    assert protocol.emergency_stop_problem("anaphylaxis") is None


# --- T14: restart after a stop ----------------------------------------------------------------------------------


@given(last=active_doses, new=active_doses)
def test_a_restart_above_the_last_non_zero_dose_needs_an_override_t14(last, new):
    check = protocol.check_restart(last, new)
    assert check.above_last_dose == (new > last)
    assert not protocol.check_restart(last, check.allowed_max_mcg).above_last_dose
    assert not protocol.check_restart(last, check.allowed_min_mcg).above_last_dose


def test_the_restart_shows_the_last_dose_and_the_w1_guidance_t14():
    notices = protocol.check_restart(Decimal("100.00"), Decimal("100")).notices
    assert any("100.00 mcg/day" in n and n.startswith("T14") for n in notices)
    assert any(n.startswith("W1") and "at or near the previous dose" in n for n in notices)


def test_a_restart_is_no_percentage_step_and_is_not_held_by_the_24_h_spacing_t14_t3():
    assert protocol.allowed_band(DoseChangeKind.RESTART, SpasticityOrigin.SPINAL, AgeBand.ADULT) is None
    assert not protocol.spaced_by_t3(DoseChangeKind.RESTART)
    assert protocol.spaced_by_t3(DoseChangeKind.TITRATION) and protocol.spaced_by_t3(DoseChangeKind.REFILL_ADJUSTMENT)
    assert not protocol.spaced_by_t3(DoseChangeKind.DISCONTINUATION)


# --- T5: the refill adjustment's window -------------------------------------------------------------------------


@given(hours_ago=st.integers(min_value=-2 * 3600, max_value=48 * 3600))
def test_a_refill_adjustment_follows_its_refill_within_24_h_t5(hours_ago):
    refilled_at = T0 - timedelta(seconds=hours_ago)
    assert protocol.refill_adjustment_open(refilled_at, T0) == (0 <= hours_ago <= 24 * 3600)


# --- T10: lack of response --------------------------------------------------------------------------------------


def increases(*hours: int, increase: bool = True) -> list[protocol.Activation]:
    return [protocol.Activation(T0 + timedelta(hours=h), increase) for h in hours]


def ashworth(*charted: tuple[int, str]) -> list[tuple[datetime, Decimal]]:
    return [(T0 + timedelta(hours=h), Decimal(score)) for h, score in charted]


def test_three_increases_without_a_fall_in_ashworth_are_a_lack_of_response_t10():
    charted = ashworth((-1, "3"), (30, "3"), (54, "3.5"), (78, "3"))
    assert protocol.lack_of_response(increases(24, 48, 72), charted)


def test_a_fall_in_ashworth_after_the_first_increase_is_a_response_t10():
    charted = ashworth((-1, "3"), (30, "2.5"), (54, "3"), (78, "3"))
    assert not protocol.lack_of_response(increases(24, 48, 72), charted)


def test_a_reduction_among_the_last_three_changes_breaks_the_run_t10():
    activations = [*increases(24, 48), *increases(60, increase=False), *increases(72)]
    assert not protocol.lack_of_response(activations, ashworth((-1, "3"), (78, "3")))


def test_no_lack_of_response_is_told_before_the_last_increase_was_observed_t10():
    assert not protocol.lack_of_response(increases(24, 48, 72), ashworth((-1, "3"), (30, "3"), (54, "3")))


def test_without_a_baseline_the_first_value_charted_after_the_increases_is_the_reference_t10():
    assert protocol.lack_of_response(increases(24, 48, 72), ashworth((30, "3"), (78, "3")))
    assert not protocol.lack_of_response(increases(24, 48, 72), ashworth((30, "3"), (78, "2.5")))


def test_the_number_of_increases_is_a_policy_value_t10():
    charted = ashworth((-1, "3"), (54, "3"))
    assert not protocol.lack_of_response(increases(24, 48), charted)
    assert protocol.lack_of_response(increases(24, 48), charted, Policy(lack_of_response_increases=2))


@given(scores=st.lists(st.sampled_from(protocol.ASHWORTH_STEPS), min_size=1, max_size=6))
def test_a_lack_of_response_is_exactly_no_value_below_the_baseline_t10(scores):
    baseline = Decimal("3")
    charted = [(T0, baseline)] + [(T0 + timedelta(hours=80 + i), s) for i, s in enumerate(scores)]
    assert protocol.lack_of_response(increases(24, 48, 72), charted) == all(s >= baseline for s in scores)
