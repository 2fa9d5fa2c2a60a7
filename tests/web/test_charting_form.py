"""The charting form: the schedule's time points labelled with the due one picked (S5, R6), late entries marked
with their delay and an optional reason (A1), and a time outside its time point or the 4-8 h window confirmed
before it is charted (A1, S6)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from screening import services as screening
from screening.models import Observation
from tests.web.support import logged_in

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
VALUES = {"ashworth_mean": "2", "penn_spasm_frequency": "2", "heart_rate": "72", "systolic_bp": "120",
          "diastolic_bp": "80", "respiratory_rate": "14", "spo2": "98", "temperature_c": "36.5",
          "sedation": "alert"}  # fmt: skip


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def dose(clock, make_patient, ward, nurse, neurologist, chart_baseline):
    trial = screening.open_trial(actor=neurologist, patient=make_patient(ward, "CH-1"))
    chart_baseline(nurse, trial, T0)
    return screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip


def observe(client, dose, **fields):
    return client.post(f"/patients/{dose.trial.patient_id}/observe/", {**VALUES, **fields})


def test_the_form_labels_the_time_points_and_picks_the_one_due_with_its_time(clock, dose, nurse):
    clock.move_to(T0 + timedelta(hours=4, minutes=5))
    page = logged_in(nurse).get(f"/patients/{dose.trial.patient_id}/observe/").content.decode()
    for hours in range(1, 9):
        assert f"{hours} h after test dose 1" in page
    checked = re.findall(r'<input type="radio" name="time_point" value="([^"]+)"[^>]*checked', page)
    assert checked == [f"dose-{dose.pk}-4"]
    assert f'value="{local(T0 + timedelta(hours=4))}"' in page  # the time filled in, still editable


def test_a_late_entry_is_marked_with_its_delay_and_reason_in_the_record(clock, dose, nurse):
    clock.move_to(T0 + timedelta(hours=6, minutes=10))
    client = logged_in(nurse)
    observe(client, dose, observed_at=local(T0 + timedelta(hours=4)), time_point=f"dose-{dose.pk}-4",
            late_reason="Called to an emergency on the ward")  # fmt: skip
    observation = Observation.objects.get(observed_at=T0 + timedelta(hours=4))
    assert observation.late_reason == "Called to an emergency on the ward"
    page = client.get(f"/patients/{dose.trial.patient_id}/").content.decode()
    assert "late entry, charted 2 h 10 min after: Called to an emergency on the ward" in page


def test_an_observation_charted_in_time_carries_no_late_entry_marker(clock, dose, nurse):
    clock.move_to(T0 + timedelta(hours=4, minutes=10))
    client = logged_in(nurse)
    observe(client, dose, observed_at=local(T0 + timedelta(hours=4)), time_point=f"dose-{dose.pk}-4")
    assert Observation.objects.filter(observed_at=T0 + timedelta(hours=4)).exists()
    page = client.get(f"/patients/{dose.trial.patient_id}/").content.decode()
    # Only the fixture's baseline, charted (at T0) half an hour after its time, is a late entry.
    assert page.count('data-testid="late-entry"') == 1 and "charted 30 min after" in page


def test_a_time_just_past_the_assessment_window_asks_for_confirmation_before_it_is_charted(clock, dose, nurse):
    clock.move_to(T0 + timedelta(hours=8, minutes=5))
    client = logged_in(nurse)
    late = local(T0 + timedelta(hours=8, minutes=2))
    response = observe(client, dose, observed_at=late, time_point=f"dose-{dose.pk}-8")
    page = response.content.decode()
    assert response.status_code == 200
    assert "outside the 4-8 h assessment window of test dose 1 (S6)" in page
    assert "Chart at this time anyway" in page
    assert not Observation.objects.filter(observed_at__gt=T0).exists()
    observe(client, dose, observed_at=late, time_point=f"dose-{dose.pk}-8", chart_anyway="on")
    assert Observation.objects.filter(observed_at=T0 + timedelta(hours=8, minutes=2)).exists()


def test_a_time_outside_the_chosen_time_point_asks_for_confirmation(clock, dose, nurse):
    clock.move_to(T0 + timedelta(hours=3))
    response = observe(logged_in(nurse), dose, observed_at=local(T0 + timedelta(hours=2)),
                       time_point=f"dose-{dose.pk}-3")  # fmt: skip
    assert "outside the 3 h after test dose 1 time point" in response.content.decode()
    assert not Observation.objects.filter(observed_at__gt=T0).exists()


def test_the_form_gives_its_script_the_time_points_bounds(clock, dose, nurse):
    clock.move_to(T0 + timedelta(hours=8))
    page = logged_in(nurse).get(f"/patients/{dose.trial.patient_id}/observe/").content.decode()
    assert '<script src="/static/js/observation-form.js" defer></script>' in page
    assert f'"window": ["{local(T0 + timedelta(hours=4))}", "{local(T0 + timedelta(hours=8))}"]' in page
