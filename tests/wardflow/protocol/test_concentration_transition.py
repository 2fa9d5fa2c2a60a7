"""T15 as pure functions: after a change of strength, the old drug left in the dead space runs at the new rate; how
long that lasts, the daily dose meanwhile, and when that is a warning. R2: while the new program is pending, the
refill date follows the faster of the two programs; a program's volume rate follows the strength it ran at."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import DoseChangeKind, Phase

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
strengths = st.sampled_from(protocol.COMMERCIAL_CONCENTRATIONS_MCG_PER_ML) | st.decimals(
    min_value=Decimal("1"), max_value=Decimal("5000"), places=1
)
doses = st.decimals(min_value=Decimal("1"), max_value=Decimal("2000"), places=2)
dead_spaces = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5"), places=2)


def transition(old, new, dose="100", dead_space="0.5"):
    return protocol.concentration_transition(Decimal(old), Decimal(new), Decimal(dose), Decimal(dead_space))


def test_500_to_2000_at_the_same_dose_gives_a_quarter_of_the_dose_meanwhile_t15():
    found = transition("500", "2000")
    assert found.rate_ml_per_day == Decimal("0.05")
    assert found.daily_dose_mcg_during == Decimal("25")
    assert found.hours == Decimal("240")  # 0.5 mL at 0.05 mL/day: 10 days
    assert found.warning


def test_2000_to_500_gives_four_times_the_dose_meanwhile_t15():
    found = transition("2000", "500")
    assert found.daily_dose_mcg_during == Decimal("400")
    assert found.hours == Decimal("60")  # 0.5 mL at 0.2 mL/day
    assert found.warning


def test_a_transition_within_20_percent_is_no_warning_t15():
    assert not transition("500", "600").warning  # 83 % of the dose
    assert not transition("600", "500").warning  # exactly 120 %: not more than 20 % away


def test_a_transition_just_beyond_20_percent_is_a_warning_t15():
    assert transition("601", "500").warning


def test_the_warning_names_the_dose_meanwhile_and_what_to_watch_for_t15():
    under, over = transition("500", "2000").message(), transition("2000", "500").message()
    assert under.startswith("T15: for about 240.0 h") and "25.00 mcg/day, 25 % of the intended 100" in under
    assert "withdrawal" in under and "W1" in under
    assert "400.00 mcg/day, 400 %" in over and "overdose" in over and "O1" in over


def test_the_warning_percent_is_a_policy_t15():
    strict = protocol.Policy(concentration_transition_warning_percent=Decimal("10"))
    loose = protocol.concentration_transition(Decimal("500"), Decimal("600"), Decimal("100"), Decimal("1"), strict)
    assert loose.warning


@given(strengths, strengths, doses, dead_spaces)
def test_the_dose_meanwhile_is_the_intended_one_times_old_over_new_t15(old, new, dose, dead_space):
    found = protocol.concentration_transition(old, new, dose, dead_space)
    assert abs(found.daily_dose_mcg_during / found.intended_daily_mcg - old / new) < Decimal("1e-20")


@given(strengths, strengths, doses, dead_spaces, st.integers(min_value=2, max_value=10))
def test_the_hours_are_proportional_to_the_dead_space_t15(old, new, dose, dead_space, factor):
    one = protocol.concentration_transition(old, new, dose, dead_space)
    more = protocol.concentration_transition(old, new, dose, dead_space * factor)
    assert abs(more.hours - one.hours * factor) < Decimal("1e-18") * more.hours
    assert abs(one.hours * one.rate_ml_per_day / 24 - dead_space) < Decimal("1e-20")


@given(strengths, strengths, doses, dead_spaces)
def test_a_warning_exactly_when_more_than_20_percent_away_t15(old, new, dose, dead_space):
    found = protocol.concentration_transition(old, new, dose, dead_space)
    assert found.warning == (abs(old - new) * 100 > 20 * new)


def test_the_kind_of_the_new_program_follows_its_daily_dose_t15():
    assert protocol.concentration_change_kind(Decimal("100"), Decimal("100"), Phase.MAINTENANCE) == (
        DoseChangeKind.CONCENTRATION_CHANGE
    )
    assert protocol.concentration_change_kind(Decimal("100"), Decimal("120"), Phase.MAINTENANCE) == (
        DoseChangeKind.REFILL_ADJUSTMENT
    )
    assert protocol.concentration_change_kind(Decimal("100"), Decimal("120"), Phase.TITRATION) == (
        DoseChangeKind.TITRATION
    )
    assert protocol.concentration_change_kind(Decimal("100"), Decimal("85"), Phase.TITRATION) == (
        DoseChangeKind.ADVERSE_EFFECT_REDUCTION
    )


def test_a_concentration_change_is_not_spaced_by_t3():
    assert not protocol.spaced_by_t3(DoseChangeKind.CONCENTRATION_CHANGE)


def test_while_pending_the_refill_date_follows_the_faster_program_r2_t15():
    running, pending = (Decimal("500"), Decimal("100")), (Decimal("2000"), Decimal("100"))
    assert protocol.faster_program(running, pending) == running  # 0.2 mL/day against 0.05
    assert protocol.faster_program(pending, running) == running


def test_a_program_at_the_old_strength_empties_the_reservoir_at_its_own_rate_r2_t15():
    # 1 day at 100 mcg/day programmed for 500 mcg/mL (0.2 mL), then 1 day programmed for 2000 mcg/mL (0.05 mL).
    periods = [
        protocol.ProgramPeriod(T0 - timedelta(days=10), Decimal("100"), Decimal("500")),
        protocol.ProgramPeriod(T0 + timedelta(days=1), Decimal("100")),
    ]
    volume = protocol.volume_at(T0 + timedelta(days=2), T0, Decimal("20"), Decimal("2000"), periods)
    assert volume == Decimal("19.75")
