"""S5: the Modified Ashworth value written as a clinician reads it, wherever the record shows it."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol


@pytest.mark.parametrize(
    ("stored", "written"),
    [("0", "0"), ("1", "1"), ("1.5", "1+"), ("1.50", "1+"), ("2.00", "2"), ("3", "3"), ("4.00", "4")],
)
def test_each_step_is_written_in_its_clinical_notation(stored, written):
    assert protocol.ashworth_notation(Decimal(stored)) == written


@given(st.decimals(min_value=0, max_value=4, places=2))
def test_a_mean_between_steps_has_one_decimal_and_never_a_plus(mean):
    written = protocol.ashworth_notation(mean)
    if mean in protocol.ASHWORTH_STEPS:
        assert written == protocol.ASHWORTH_NOTATION[mean]
    else:
        assert "+" not in written
        _, tenths = written.split(".")
        assert len(tenths) == 1
        assert abs(Decimal(written) - mean) <= Decimal("0.05")


def test_no_step_is_written_with_decimals():
    assert [protocol.ashworth_notation(step) for step in protocol.ASHWORTH_STEPS] == ["0", "1", "1+", "2", "3", "4"]
