"""Giving test doses through the HTTP API: bad input changes nothing (S1, S3, S4, S11, P1)."""

from datetime import timedelta

import pytest

from alerts.models import DueCheck
from screening.models import TestDose
from tests.screening.support import T0, chart, dose_body, give, hours, open_trial, trial_of, when
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def nothing_written_since(events_before: int):
    assert not TestDose.objects.exists()
    assert not DueCheck.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"dose_mcg": "75", "volume_ml": "1.5"}, "dose_mcg", "S1"),
        ({"volume_ml": "2"}, "volume_ml", "S1"),
        ({"injection_seconds": 45}, "injection_seconds", "S4"),
        ({"resuscitation_ready": False}, "resuscitation_ready", "S4"),
        ({"administered_at": (T0 + timedelta(minutes=10)).isoformat()}, "administered_at", None),
        ({"administered_at": (T0 - timedelta(days=31)).isoformat()}, "administered_at", None),
        ({"route": "intravenous"}, "route", None),
        ({"lot": ""}, "lot", None),
    ],
)
def test_invalid_test_dose_is_refused_naming_the_field(ward_team, open_trial_id, overrides, field, rule):
    before = AuditEvent.objects.count()
    response = give(ward_team[0], open_trial_id, hours(0), **overrides)
    assert response.status_code == 400
    assert field in response.json()
    if rule:
        assert response.json()[field][0].startswith(rule)
    nothing_written_since(before)


def test_missing_resuscitation_confirmation_is_refused(ward_team, open_trial_id):
    body = dose_body(hours(0), "50", "1")
    del body["resuscitation_ready"]
    response = ward_team[0].post(f"/api/v1/screening-trials/{open_trial_id}/doses/", body, format="json")
    assert response.status_code == 400 and "resuscitation_ready" in response.json()
    assert not TestDose.objects.exists()


def test_late_entry_of_a_dose_is_accepted_with_event_and_entry_times(clock, ward_team, open_trial_id):
    chart(ward_team[0], open_trial_id, hours(-0.5))  # baseline (V2)
    clock.move_to(hours(3))
    response = give(ward_team[0], open_trial_id, hours(0))
    assert response.status_code == 201
    assert when(response.json()["administered_at"]) == hours(0)
    event = AuditEvent.objects.get(action="test_dose.given")
    assert (event.at, event.entered_at) == (hours(0), hours(3))


def test_active_infection_blocks_a_test_dose_p1(ward_team, open_trial_id, adult):
    adult.active_infection = True
    adult.save()
    before = AuditEvent.objects.count()
    response = give(ward_team[0], open_trial_id, hours(0))
    assert response.status_code == 409
    assert response.json()["rule"] == "P1"
    nothing_written_since(before)


def test_no_second_dose_while_the_first_is_unassessed(clock, ward_team, open_trial_id, observed_dose):
    clock.move_to(hours(25))
    response = give(ward_team[0], open_trial_id, hours(25), "75", "1.5")
    assert response.status_code == 409
    assert TestDose.objects.count() == 1


def test_a_dose_an_hour_after_a_cancelled_trials_dose_is_refused_until_24_h_after_it_s3(clock, ward_team, adult,
                                                                                       open_trial_id):  # fmt: skip
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    assert give(nurse, open_trial_id, hours(0)).status_code == 201
    clock.move_to(hours(0.5))
    cancelled = neuro.post(f"/api/v1/screening-trials/{open_trial_id}/cancel/", {"reason": "consent withdrawn"},
                           format="json")  # fmt: skip
    assert cancelled.status_code == 200
    second = open_trial(neuro, adult).json()
    assert when(second["next_dose_due_at"]) == hours(24)
    clock.move_to(hours(1))
    before = AuditEvent.objects.count()
    refused = give(nurse, second["id"], hours(1))
    assert (refused.status_code, refused.json()["rule"]) == (409, "S3")
    assert when(refused.json()["next_dose_due_at"]) == hours(24)
    assert TestDose.objects.count() == 1
    assert AuditEvent.objects.count() == before
    assert when(trial_of(nurse, second["id"])["next_dose_due_at"]) == hours(24)
