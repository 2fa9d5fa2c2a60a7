"""Patient rules of the protocol module (age bands, P4 withdrawal risk, P3/P5 cautions): pure functions."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardflow import protocol
from wardflow.protocol import AgeBand, CautionFactors, Policy

birthdays = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@given(dob=birthdays, on=birthdays)
def test_age_band_is_pediatric_exactly_under_18(dob, on):
    years = protocol.age_years(dob, on)
    assert protocol.age_band(dob, on) == (AgeBand.ADULT if years >= 18 else AgeBand.PEDIATRIC)


@given(dob=birthdays, later=st.integers(min_value=0, max_value=3650))
def test_age_never_decreases_with_time(dob, later):
    on = date(2030, 12, 31)
    earlier = date.fromordinal(on.toordinal() - later)
    assert protocol.age_years(dob, earlier) <= protocol.age_years(dob, on)


def test_eighteenth_birthday_makes_a_patient_adult_that_day():
    dob = date(2008, 11, 26)
    assert protocol.age_band(dob, date(2026, 11, 25)) == AgeBand.PEDIATRIC
    assert protocol.age_band(dob, date(2026, 11, 26)) == AgeBand.ADULT


def test_leap_day_birthday_turns_a_year_older_on_first_of_march():
    dob = date(2008, 2, 29)
    assert protocol.age_years(dob, date(2026, 2, 28)) == 17
    assert protocol.age_years(dob, date(2026, 3, 1)) == 18


def test_adult_age_is_a_policy_value():
    dob = date(2005, 1, 1)
    on = date(2026, 6, 1)  # 21 years old
    assert protocol.age_band(dob, on, Policy(adult_age_years=21)) == AgeBand.ADULT
    assert protocol.age_band(dob, on, Policy(adult_age_years=22)) == AgeBand.PEDIATRIC


def test_unknown_policy_override_is_refused():
    try:
        protocol.DEFAULT_POLICY.with_overrides({"adult_age": 21})
    except ValueError as exc:
        assert "adult_age" in str(exc)
    else:
        raise AssertionError("an unknown policy name must not be silently ignored")


@given(sci=st.booleans(), comm=st.booleans(), history=st.booleans())
def test_any_one_withdrawal_risk_factor_makes_high_risk_p4(sci, comm, history):
    risk = protocol.high_withdrawal_risk(
        sci_t6_or_above=sci, communication_difficulties=comm, history_of_withdrawal=history
    )
    assert risk == (sci or comm or history)


def test_no_cautions_for_a_young_patient_without_factors():
    assert protocol.cautions(CautionFactors(age_years=40)) == []


def test_oral_antispasmodics_warn_to_taper_p3():
    (caution,) = protocol.cautions(CautionFactors(age_years=40, oral_antispasmodics="tizanidine 4 mg tds"))
    assert caution.startswith("P3:")
    assert "tizanidine 4 mg tds" in caution
    assert "taper" in caution


def test_each_p5_factor_adds_its_own_caution():
    factors = CautionFactors(
        age_years=70,
        renal_impairment=True,
        psychiatric_or_brain_disorder=True,
        seizure_disorder=True,
        autonomic_dysreflexia_history=True,
    )
    found = protocol.cautions(factors)
    assert len(found) == 5
    assert all(c.startswith("P5:") for c in found)


def test_age_caution_starts_at_65():
    assert protocol.cautions(CautionFactors(age_years=64)) == []
    assert protocol.cautions(CautionFactors(age_years=65))[0].startswith("P5: aged 65")


def test_protocol_module_has_no_django_import():
    source = Path(protocol.__file__).read_text()
    assert "django" not in source


@pytest.mark.django_db
def test_a_local_policy_is_audited_once_and_named_in_every_decisions_version(settings):
    from django.db import transaction

    from wardflow.audit.models import AuditEvent
    from wardflow.audit.services import record_event, record_policy_if_changed

    assert not record_policy_if_changed()  # the protocol's defaults: nothing to record
    settings.WARDFLOW_POLICY = {"default_alarm_volume_ml": Decimal("4")}
    assert record_policy_if_changed()
    assert not record_policy_if_changed()
    event = AuditEvent.objects.get(action="policy.in_force")
    assert event.after["default_alarm_volume_ml"] == "4" and "default_alarm_volume_ml" in event.reason
    with transaction.atomic():
        decision = record_event(actor=None, action="test.decision")
    assert decision.protocol_version.startswith(f"{protocol.PROTOCOL_VERSION}+local.")
    settings.WARDFLOW_POLICY = {}
    assert record_policy_if_changed()  # back to the defaults is a change too
