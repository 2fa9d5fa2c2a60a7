"""Screening's due checks (A1 observation overdue, S3 next dose due) and its P1 receiver, end to end."""

from datetime import timedelta

import pytest

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from tests.screening.support import assess, chart, give, hours, observe_dose, trial_of
from wardflow.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_infection_charted_mid_trial_suspends_it_until_resolved_and_resumed_p1(clock, ward_team, open_trial_id, adult):
    nurse, neuro = ward_team
    patched = nurse.patch(f"/api/v1/patients/{adult.pk}/", {"active_infection": True}, format="json")
    assert patched.status_code == 200
    assert trial_of(neuro, open_trial_id)["state"] == "suspended"
    assert AuditEvent.objects.get(action="screening.suspended").rules == ["P1"]
    assert give(nurse, open_trial_id, hours(0)).status_code == 409
    still_infected = neuro.post(
        f"/api/v1/screening-trials/{open_trial_id}/resume/", {"reason": "reviewed"}, format="json"
    )
    assert still_infected.status_code == 409 and still_infected.json()["rule"] == "P1"
    nurse.patch(f"/api/v1/patients/{adult.pk}/", {"active_infection": False}, format="json")
    resumed = neuro.post(
        f"/api/v1/screening-trials/{open_trial_id}/resume/", {"reason": "infection treated"}, format="json"
    )
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "awaiting_dose"
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    assert give(nurse, open_trial_id, hours(0)).status_code == 201


def test_a_dose_schedules_an_overdue_check_for_each_observation(ward_team, open_trial_id):
    chart(ward_team[0], open_trial_id, hours(-0.5))  # baseline (V2)
    give(ward_team[0], open_trial_id, hours(0))
    due = sorted(DueCheck.objects.filter(kind="screening.observation_overdue").values_list("due_at", flat=True))
    assert due == [hours(h) + timedelta(minutes=15) for h in range(1, 9)]


def test_dispatcher_raises_observation_overdue_when_nothing_is_charted(ward_team, open_trial_id):
    chart(ward_team[0], open_trial_id, hours(-0.5))  # baseline (V2)
    give(ward_team[0], open_trial_id, hours(0))
    dispatch_due_checks(now=hours(1) + timedelta(minutes=14))
    assert not Alert.objects.exists()
    dispatch_due_checks(now=hours(1) + timedelta(minutes=15))
    alert = Alert.objects.get()
    assert (alert.kind, alert.rule, alert.target_role, alert.due_at) == ("observation_overdue", "A1", "nurse", hours(1))
    assert "1 h observation" in alert.message


def test_dispatcher_raises_nothing_when_the_observation_was_charted_in_time(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    give(nurse, open_trial_id, hours(0))
    clock.move_to(hours(1))
    chart(nurse, open_trial_id, hours(1) - timedelta(minutes=5))
    # the observation closed its slot's check at once: the ward board now shows the 2 h observation as next
    assert DueCheck.objects.filter(state="cancelled").count() == 1
    dispatch_due_checks(now=hours(1) + timedelta(minutes=30))
    assert not Alert.objects.exists()


def test_a_late_observation_resolves_its_overdue_alert(clock, ward_team, open_trial_id):
    nurse, _ = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    give(nurse, open_trial_id, hours(0))
    dispatch_due_checks(now=hours(1.3))
    clock.move_to(hours(1.4))
    chart(nurse, open_trial_id, hours(1.2))
    assert Alert.objects.get().state == "resolved"


def test_next_rung_due_alert_after_an_inadequate_response(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))
    dose_id = give(nurse, open_trial_id, hours(0)).json()["id"]
    clock.move_to(hours(8.1))
    observe_dose(nurse, open_trial_id, hours(0))
    assess(neuro, dose_id, "inadequate")
    dispatch_due_checks(now=hours(23.9))
    assert not Alert.objects.filter(kind="next_test_dose_due").exists()
    dispatch_due_checks(now=hours(24))
    alert = Alert.objects.get(kind="next_test_dose_due")
    assert "75" in alert.message and alert.rule == "S3"
