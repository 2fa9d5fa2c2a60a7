from decimal import Decimal

import pytest

from wardflow import protocol
from wardflow.policy import current_policy


def test_the_policy_is_built_once_for_the_same_overrides(settings):
    settings.WARDFLOW_POLICY = {"titration_spacing_hours": 48}
    assert current_policy() is current_policy()


def test_a_changed_override_is_in_force_at_the_next_call(settings):
    settings.WARDFLOW_POLICY = {"titration_spacing_hours": 48}
    assert current_policy().titration_spacing_hours == 48
    settings.WARDFLOW_POLICY = {"default_alarm_volume_ml": Decimal("4")}
    policy = current_policy()
    assert policy.default_alarm_volume_ml == Decimal("4")
    assert policy.titration_spacing_hours == protocol.DEFAULT_POLICY.titration_spacing_hours


def test_an_override_changed_in_place_is_in_force_too(settings):
    overrides = {"titration_spacing_hours": 48}
    settings.WARDFLOW_POLICY = overrides
    assert current_policy().titration_spacing_hours == 48
    overrides["titration_spacing_hours"] = 36
    assert current_policy().titration_spacing_hours == 36


def test_no_override_is_the_protocol_default(settings):
    settings.WARDFLOW_POLICY = {}
    assert current_policy() == protocol.DEFAULT_POLICY


def test_an_unknown_override_is_refused_at_every_call(settings):
    settings.WARDFLOW_POLICY = {"no_such_setting": 1}
    for _ in range(2):
        with pytest.raises(ValueError, match="no_such_setting"):
            current_policy()
