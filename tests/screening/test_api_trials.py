"""Opening, listing, cancelling and resuming screening trials through the HTTP API (S1, S2, S9, S10, S11, P2,
T13)."""

import pytest
from django_fsm import TransitionNotAllowed

from alerts.models import Alert, DueCheck
from alerts.services import dispatch_due_checks
from screening.models import ScreeningTrial, TestDose
from tests.screening.support import chart, give, hours, open_trial, when
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def test_pediatric_25_mcg_start_with_a_reason_s2(clock, ward_team, child):
    nurse, neuro = ward_team
    opened = open_trial(neuro, child, first_dose_mcg="25", reason="very small child, 14 kg")
    assert opened.status_code == 201, opened.json()
    assert opened.json()["next_dose_mcg"] == "25.0"
    assert AuditEvent.objects.get(action="screening.opened").rules == ["S1", "S2"]
    chart(nurse, opened.json()["id"], hours(-0.5))  # baseline (V2)
    wrong_volume = give(nurse, opened.json()["id"], hours(0), "25", "1")
    assert wrong_volume.status_code == 400
    assert "of the 50 mcg/mL solution is 0.5 mL" in wrong_volume.json()["volume_ml"][0]  # the right volume (S1)
    assert give(nurse, opened.json()["id"], hours(0), "25", "0.5").status_code == 201


def test_25_mcg_start_is_refused_for_adults_s2(clock, ward_team, adult):
    _, neuro = ward_team
    response = open_trial(neuro, adult, first_dose_mcg="25", reason="small")
    assert response.status_code == 409
    assert response.json()["rule"] == "S2"
    assert not ScreeningTrial.objects.exists()
    assert not AuditEvent.objects.exists()


def test_25_mcg_start_needs_a_reason_s2(clock, ward_team, child):
    _, neuro = ward_team
    response = open_trial(neuro, child, first_dose_mcg="25")
    assert response.status_code == 400
    assert "S2" in response.json()["reason"][0]
    assert not ScreeningTrial.objects.exists()


def test_under_4_needs_a_neurologist_override_with_a_reason_p2(clock, ward_team, toddler):
    _, neuro = ward_team
    refused = open_trial(neuro, toddler)
    assert refused.status_code == 409
    assert refused.json()["rule"] == "P2"
    assert not ScreeningTrial.objects.exists() and not AuditEvent.objects.exists()
    opened = open_trial(neuro, toddler, override_reason="severe dystonia, family consent, MDT agreed")
    assert opened.status_code == 201
    event = AuditEvent.objects.get(action="screening.opened")
    assert "P2" in event.rules
    assert "MDT agreed" in event.reason


def test_nurse_cannot_open_a_trial(clock, ward_team, adult):
    nurse, _ = ward_team
    assert open_trial(nurse, adult).status_code == 403
    assert not ScreeningTrial.objects.exists()


def test_one_open_trial_per_patient(clock, ward_team, adult):
    _, neuro = ward_team
    open_trial(neuro, adult)
    again = open_trial(neuro, adult)
    assert again.status_code == 409
    assert ScreeningTrial.objects.count() == 1


def test_trial_on_another_ward_answers_404(clock, api_as, make_staff, other_ward, ward_team, adult):
    _, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    stranger = api_as(make_staff(Role.NURSE, other_ward))
    assert stranger.get(f"/api/v1/screening-trials/{trial_id}/").status_code == 404
    assert give(stranger, trial_id, hours(0)).status_code == 404
    assert not TestDose.objects.exists()


def test_listing_a_wards_open_trials_costs_constant_queries(clock, api_as, neurologist, nurse, make_patient, ward,
                                                            django_assert_max_num_queries):  # fmt: skip
    neuro, nursing = api_as(neurologist), api_as(nurse)
    for i in range(12):
        trial_id = open_trial(neuro, make_patient(ward, f"L{i}")).json()["id"]
        chart(nursing, trial_id, hours(-0.5))
        if i % 2:
            give(nursing, trial_id, hours(0))
    # token and user, role, ward ids, count, trials (patient, ward), doses (assessment), observations
    with django_assert_max_num_queries(7):
        response = nursing.get("/api/v1/screening-trials/?state=awaiting_dose,observing&ward=N3")
    assert response.json()["count"] == 12


def test_trial_state_cannot_be_set_around_the_state_machine(clock, ward_team, open_trial_id):
    trial = ScreeningTrial.objects.get(pk=open_trial_id)
    with pytest.raises(AttributeError):
        trial.state = "candidate"
    with pytest.raises(TransitionNotAllowed):
        trial.conclude_dose("candidate")  # only from observing (S9)
    trial.refresh_from_db()
    assert trial.state == "awaiting_dose"


def test_cancelling_a_trial_needs_a_reason_and_closes_its_due_checks(clock, ward_team, open_trial_id):
    nurse, neuro = ward_team
    chart(nurse, open_trial_id, hours(-0.5))  # baseline (V2)
    assert give(nurse, open_trial_id, hours(0)).status_code == 201
    no_reason = neuro.post(f"/api/v1/screening-trials/{open_trial_id}/cancel/", {"reason": " "}, format="json")
    assert no_reason.status_code == 400
    cancelled = neuro.post(f"/api/v1/screening-trials/{open_trial_id}/cancel/", {"reason": "family withdrew consent"},
                           format="json")  # fmt: skip
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert not DueCheck.objects.filter(state="pending").exists()
    assert AuditEvent.objects.get(action="screening.cancelled").reason == "family withdrew consent"
    dispatch_due_checks(now=hours(9))
    assert not Alert.objects.exists()


def test_only_a_suspended_trial_can_be_resumed(ward_team, open_trial_id):
    response = ward_team[1].post(f"/api/v1/screening-trials/{open_trial_id}/resume/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["rule"] == "S10"


def test_a_patient_with_a_pump_in_place_is_not_screened_again_t13(clock, ward_team, implanted_adult):
    _, neuro = ward_team
    events_before = AuditEvent.objects.count()
    response = open_trial(neuro, implanted_adult)
    assert response.status_code == 409
    assert response.json()["rule"] == "T13"
    assert ScreeningTrial.objects.filter(patient=implanted_adult).count() == 1  # only the one that led to the pump
    assert AuditEvent.objects.count() == events_before


def test_rescreening_after_not_candidate_answers_409_until_a_reason_is_given_s11(ward_team, not_candidate_adult):
    _, neuro = ward_team
    refused = open_trial(neuro, not_candidate_adult)
    assert (refused.status_code, refused.json()["rule"]) == (409, "S11")
    assert ScreeningTrial.objects.count() == 1
    assert not AuditEvent.objects.exists()
    opened = open_trial(neuro, not_candidate_adult, override_reason="new cerebral palsy service review")
    assert opened.status_code == 201, opened.json()
    assert when(opened.json()["next_dose_due_at"]) == hours(18)  # S3: 24 h after the earlier trial's 100 mcg dose
    event = AuditEvent.objects.get(action="screening.opened")
    assert (event.rules, event.reason) == (["S1", "S11"], "new cerebral palsy service review")


def test_a_candidate_awaiting_the_implant_is_refused_a_new_trial_s11(ward_team, candidate_adult):
    response = open_trial(ward_team[1], candidate_adult, override_reason="second opinion")
    assert (response.status_code, response.json()["rule"]) == (409, "S11")
    assert "T1" in response.json()["detail"]
    assert ScreeningTrial.objects.count() == 1
    assert not AuditEvent.objects.exists()
