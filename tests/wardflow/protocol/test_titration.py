"""Implant, titration, programs and reservoir rules (T1-T12, R1-R5) as pure functions."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import AgeBand, DoseChangeKind, ProgramPeriod, Segment, SpasticityOrigin

T0 = datetime(2026, 11, 1, tzinfo=UTC)
doses = st.decimals(min_value=Decimal("10"), max_value=Decimal("2000"), places=1)


@pytest.mark.parametrize(
    ("dose", "hours", "daily"),
    [("50", "6.5", "100"), ("50", "8", "100"), ("50", "8.1", "50"), ("75", "10", "75"), ("100", "4", "200")],
)
def test_initial_daily_dose_t1(dose, hours, daily):
    assert protocol.initial_daily_dose(Decimal(dose), Decimal(hours)) == Decimal(daily)


@pytest.mark.parametrize(
    ("kind", "origin", "band", "expected"),
    [
        (DoseChangeKind.TITRATION, SpasticityOrigin.SPINAL, AgeBand.ADULT, ("10", "30", "T3")),
        (DoseChangeKind.TITRATION, SpasticityOrigin.CEREBRAL, AgeBand.ADULT, ("5", "15", "T3")),
        (DoseChangeKind.TITRATION, SpasticityOrigin.SPINAL, AgeBand.PEDIATRIC, ("5", "15", "T3")),
        (DoseChangeKind.TITRATION, SpasticityOrigin.CEREBRAL, AgeBand.PEDIATRIC, ("5", "15", "T3")),
        (DoseChangeKind.REFILL_ADJUSTMENT, SpasticityOrigin.SPINAL, AgeBand.ADULT, ("10", "40", "T5")),
        (DoseChangeKind.REFILL_ADJUSTMENT, SpasticityOrigin.CEREBRAL, AgeBand.PEDIATRIC, ("5", "20", "T5")),
        (DoseChangeKind.ADVERSE_EFFECT_REDUCTION, SpasticityOrigin.SPINAL, AgeBand.ADULT, ("-20", "-10", "T6")),
    ],
)
def test_allowed_bands_t3_t5_t6(kind, origin, band, expected):
    found = protocol.allowed_band(kind, origin, band)
    assert (str(found.min_percent), str(found.max_percent), found.rule) == expected


def test_a_35_percent_step_is_beyond_the_adult_spinal_band_t4():
    band = protocol.allowed_band(DoseChangeKind.TITRATION, SpasticityOrigin.SPINAL, AgeBand.ADULT)
    check = protocol.check_band(Decimal("100"), Decimal("135"), band)
    assert check.beyond_band
    assert check.allowed_max_mcg == Decimal("130")


def test_a_step_below_the_band_minimum_is_allowed_with_a_notice_t4():
    band = protocol.allowed_band(DoseChangeKind.TITRATION, SpasticityOrigin.SPINAL, AgeBand.ADULT)
    check = protocol.check_band(Decimal("100"), Decimal("105"), band)
    assert not check.beyond_band
    assert check.notices and check.notices[0].startswith("T3")


def test_a_reduction_beyond_20_percent_needs_an_override_t6():
    band = protocol.allowed_band(DoseChangeKind.ADVERSE_EFFECT_REDUCTION, SpasticityOrigin.SPINAL, AgeBand.ADULT)
    assert protocol.check_band(Decimal("100"), Decimal("75"), band).beyond_band
    assert not protocol.check_band(Decimal("100"), Decimal("85"), band).beyond_band


@given(active=doses, percent=st.decimals(min_value=Decimal("-50"), max_value=Decimal("100"), places=1))
def test_within_band_exactly_when_percent_is_at_most_the_maximum(active, percent):
    band = protocol.allowed_band(DoseChangeKind.TITRATION, SpasticityOrigin.SPINAL, AgeBand.ADULT)
    new = active * (100 + percent) / 100
    check = protocol.check_band(active, new, band)
    assert check.beyond_band == (check.percent > band.max_percent)
    assert (new <= check.allowed_max_mcg) == (not check.beyond_band)


def test_rate_in_ml_per_day_t2():
    assert protocol.rate_ml_per_day(Decimal("300"), Decimal("500")) == Decimal("0.6")


@pytest.mark.parametrize(("strength", "dilution"), [("50", False), ("500", False), ("2000", False), ("1000", True)])
def test_non_commercial_concentrations_need_a_dilution_record_t2(strength, dilution):
    assert protocol.needs_dilution_record(Decimal(strength)) is dilution


@pytest.mark.parametrize(
    ("dose", "origin", "age", "notices", "warnings"),
    [
        ("500", SpasticityOrigin.SPINAL, 40, 0, 0),
        ("200", SpasticityOrigin.SPINAL, 40, 1, 0),
        ("2100", SpasticityOrigin.SPINAL, 40, 0, 2),  # outside seen, and above 1000
        ("1200", SpasticityOrigin.SPINAL, 40, 1, 1),  # outside usual, limited experience
        ("80", SpasticityOrigin.CEREBRAL, 30, 1, 0),
        ("10", SpasticityOrigin.CEREBRAL, 30, 0, 1),
        ("274", SpasticityOrigin.CEREBRAL, 8, 0, 0),
        ("1250", SpasticityOrigin.SPINAL, 8, 0, 2),
    ],
)
def test_maintenance_range_notices_and_warnings_t8(dose, origin, age, notices, warnings):
    found = protocol.maintenance_range(Decimal(dose), origin, age)
    assert (len(found.notices), len(found.warnings)) == (notices, warnings)


def test_increases_wait_24_h_after_the_previous_activation_decreases_do_not_t3_t6():
    activated = T0
    proposed = T0 + timedelta(hours=2)
    assert protocol.earliest_programming(activated, proposed, is_increase=True) == T0 + timedelta(hours=24)
    assert protocol.earliest_programming(activated, proposed, is_increase=False) == proposed


def test_three_approved_increases_within_7_days_suggest_a_pump_problem_t10():
    now = T0 + timedelta(days=10)
    times = [now - timedelta(days=d) for d in (1, 3, 6)]
    assert protocol.sudden_increase(False, times, now)
    assert not protocol.sudden_increase(False, [*times[:2], now - timedelta(days=8)], now)
    assert protocol.sudden_increase(True, [], now)


segments = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=24 * 60 - 1),
        st.decimals(min_value=Decimal("10"), max_value=Decimal("300"), places=0),
    ),
    max_size=5,
    unique_by=lambda t: t[0],
).map(
    lambda extra: (Segment(0, Decimal("100")), *sorted((Segment(m, p) for m, p in extra), key=lambda s: s.start_minute))
)


@given(daily=doses, program=segments)
def test_the_segments_deliver_exactly_the_programmed_daily_dose_t7(daily, program):
    assert protocol.validate_segments(program) == []
    rates = protocol.segment_rates_mcg_per_hour(daily, program)
    assert abs(protocol.daily_total_mcg(program, rates) - daily) < Decimal("1e-18")


def test_night_segment_runs_20_percent_faster_t7():
    program = (Segment(0, Decimal("100")), Segment(20 * 60, Decimal("120")), Segment(23 * 60, Decimal("100")))
    rates = protocol.segment_rates_mcg_per_hour(Decimal("246"), program)
    assert rates[1] == rates[0] * Decimal("1.2")
    assert rates[0] == Decimal("10")


def test_invalid_segments_are_named_t7():
    assert protocol.validate_segments((Segment(60, Decimal("100")),))
    assert protocol.validate_segments((Segment(0, Decimal("100")), Segment(0, Decimal("120"))))
    assert protocol.validate_segments((Segment(0, Decimal("0")),))


def test_reservoir_slope_changes_when_a_new_program_becomes_active_r2():
    programs = [ProgramPeriod(T0, Decimal("100")), ProgramPeriod(T0 + timedelta(days=2), Decimal("200"))]
    # 20 mL at 500 mcg/mL; 2 days at 100 then 1 day at 200 = 400 mcg = 0.8 mL
    assert protocol.volume_at(T0 + timedelta(days=3), T0, Decimal("20"), Decimal("500"), programs) == Decimal("19.2")


def test_without_a_program_in_force_the_reservoir_keeps_its_fill():
    assert protocol.volume_at(T0 + timedelta(days=3), T0, Decimal("20"), Decimal("500"), []) == Decimal("20")


def test_days_to_alarm_and_refill_due_r2():
    days = protocol.days_to_alarm(Decimal("20"), Decimal("2"), Decimal("500"), Decimal("300"))
    assert days == Decimal("30")
    alarm = protocol.alarm_time(T0, Decimal("20"), Decimal("2"), Decimal("500"), Decimal("300"))
    assert alarm == T0 + timedelta(days=30)
    assert protocol.refill_due(alarm) == T0 + timedelta(days=27)


volumes = st.decimals(min_value=Decimal("3"), max_value=Decimal("40"), places=1)
more = st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=1)


@given(volume=volumes, extra_volume=more, dose=doses, extra_dose=more)
def test_refill_due_is_monotonic_in_volume_and_antitonic_in_dose_r2(volume, extra_volume, dose, extra_dose):
    def due(v, d):
        return protocol.refill_due(protocol.alarm_time(T0, v, Decimal("2"), Decimal("500"), d))

    assert due(volume, dose) <= due(volume + extra_volume, dose)
    assert due(volume, dose + extra_dose) <= due(volume, dose)


def test_reminder_days_r3_r4():
    assert protocol.refill_reminder_days(False) == (14, 7, 3, 1)
    assert protocol.refill_reminder_days(True) == (21, 14, 7, 3, 1)


@pytest.mark.parametrize(("days", "level"), [(21, ("info", "R4")), (14, ("info", "R3")), (3, ("warning", "R3")),
                                             (1, ("warning", "R3"))])  # fmt: skip
def test_refill_reminder_levels_r3_r4(days, level):
    assert protocol.refill_reminder_level(days) == level


def test_residual_discrepancy_over_2_ml_r5():
    assert protocol.residual_discrepancy(Decimal("5"), Decimal("7.5")) == Decimal("2.5")
    assert protocol.residual_discrepancy(Decimal("5"), Decimal("7")) is None
