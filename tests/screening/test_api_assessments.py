"""Assessing the response to a test dose through the HTTP API (S6-S9)."""

import threading

import pytest
import time_machine
from django.db import connections

from screening.models import Assessment, ScreeningTrial
from tests.screening.support import T0, assess, chart, give, hours, open_trial
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def test_assessment_by_a_nurse_is_refused(ward_team, observed_dose):
    response = assess(ward_team[0], observed_dose, "inadequate")
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_assessment_before_a_4_h_observation_is_refused_s6(ward_team, observed_dose):
    before = AuditEvent.objects.count()
    response = assess(ward_team[1], observed_dose, "inadequate")
    assert response.status_code == 409
    assert response.json()["rule"] == "S6"
    assert not Assessment.objects.exists()
    assert AuditEvent.objects.count() == before
    assert ScreeningTrial.objects.get().state == "observing"


def test_positive_assessment_needs_its_duration_s8(clock, ward_team, open_trial_id, observed_dose):
    clock.move_to(hours(4.1))
    chart(ward_team[0], open_trial_id, hours(4), ashworth="1")
    response = assess(ward_team[1], observed_dose, "positive")
    assert response.status_code == 400
    assert "S8" in response.json()["duration_hours"][0]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("duration", ["0", "-2"])
def test_positive_assessment_of_no_duration_is_refused_on_duration_hours_s8(clock, ward_team, open_trial_id,
                                                                           observed_dose, duration):  # fmt: skip
    clock.move_to(hours(4.1))
    chart(ward_team[0], open_trial_id, hours(4), ashworth="1")
    before = AuditEvent.objects.count()
    response = assess(ward_team[1], observed_dose, "positive", duration_hours=duration)
    assert response.status_code == 400
    assert (response.json()["rule"], response.json()["duration_hours"][0][:3]) == ("S8", "S8:")
    assert not Assessment.objects.exists()
    assert AuditEvent.objects.count() == before
    assert ScreeningTrial.objects.get().state == "observing"


def test_a_dose_is_assessed_once(clock, ward_team, open_trial_id, observed_dose):
    clock.move_to(hours(4.1))
    chart(ward_team[0], open_trial_id, hours(4))
    assert assess(ward_team[1], observed_dose, "inadequate").status_code == 201
    again = assess(ward_team[1], observed_dose, "positive", duration_hours="6")
    assert again.status_code == 409
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.assessed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_assessment_yields_one_assessment_and_one_409(allow_audit_flush, api_as, make_staff,
                                                                       make_patient, ward):  # fmt: skip
    with time_machine.travel(T0, tick=False) as clock:
        nurse = api_as(make_staff(Role.NURSE, ward))
        neuros = [make_staff(Role.NEUROLOGIST, ward) for _ in range(2)]
        trial_id = open_trial(api_as(neuros[0]), make_patient(ward, "RACE")).json()["id"]
        chart(nurse, trial_id, hours(-0.5))
        dose_id = give(nurse, trial_id, hours(0)).json()["id"]
        clock.move_to(hours(4.1))
        chart(nurse, trial_id, hours(4))
        barrier = threading.Barrier(2)
        codes = []

        def decide(user):
            client = api_as(user)
            barrier.wait()
            try:
                codes.append(assess(client, dose_id, "inadequate").status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=decide, args=(u,)) for u in neuros]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(codes) == [201, 409]
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.assessed").count() == 1
