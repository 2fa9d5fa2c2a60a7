"""D4 on the patient page: a clinician of the ward marks an observation, a test dose or a refill entered in error with
a reason; the row stays, struck through, with who, when and why."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from screening import services as screening
from screening.models import Observation, TestDose
from tests.screening.support import vitals
from tests.web.support import logged_in
from titration.models import Refill
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clock, make_patient, ward):
    return make_patient(ward, "WEB-D4")


def observe(nurse, patient, at, trial=None):
    return screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at, signs=(),
                                       **vitals())  # fmt: skip


@pytest.fixture
def dose(clock, patient, nurse, neurologist):
    trial = screening.open_trial(actor=neurologist, patient=patient)
    observe(nurse, patient, T0 - timedelta(minutes=10), trial)
    return screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip


def test_the_patient_page_shows_an_observation_in_error_struck_through_with_who_and_why(clock, dose, patient, nurse,
                                                                                        neurologist):  # fmt: skip
    clock.move_to(T0 + timedelta(hours=1, minutes=5))
    observation = observe(nurse, patient, T0 + timedelta(hours=1))
    client = logged_in(neurologist)
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert f'href="/observations/{observation.pk}/entered-in-error/"' in page
    response = client.post(f"/observations/{observation.pk}/entered-in-error/", {"reason": "wrong patient's chart"})
    assert response.status_code == 302
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert page.count('<tr class="entered-in-error">') == 1
    assert 'Entered in error by dr_nolan at <time datetime="2026-11-02T10:05:00+00:00" class="clock">10:05<' in page
    assert "wrong patient&#x27;s chart (D4)" in page
    assert f'href="/observations/{observation.pk}/entered-in-error/"' not in page
    assert Observation.objects.filter(patient=patient).count() == 2  # the original stays


def test_a_test_dose_in_error_is_struck_through_and_the_rung_offered_again(clock, dose, patient, nurse):
    client = logged_in(nurse)
    assert client.post(f"/doses/{dose.pk}/entered-in-error/", {"reason": "needle dislodged"}).status_code == 302
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert '<li class="entered-in-error">' in page
    assert "Entered in error by nina" in page and "needle dislodged (D4)" in page
    assert 'href="/trials/' in page and "Give test dose" in page
    assert TestDose.objects.get(pk=dose.pk).entered_in_error


def test_a_blank_reason_is_shown_on_the_form_and_nothing_written(clock, dose, nurse):
    response = logged_in(nurse).post(f"/doses/{dose.pk}/entered-in-error/", {"reason": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not TestDose.objects.get(pk=dose.pk).entered_in_error
    assert not AuditEvent.objects.filter(action="test_dose.entered_in_error").exists()


def test_another_wards_clinician_gets_404_and_an_administrator_403(clock, dose, make_staff, other_ward,
                                                                   administrator):  # fmt: skip
    stranger = logged_in(make_staff(Role.NURSE, other_ward))
    assert stranger.post(f"/doses/{dose.pk}/entered-in-error/", {"reason": "x"}).status_code == 404
    assert logged_in(administrator).post(f"/doses/{dose.pk}/entered-in-error/", {"reason": "x"}).status_code == 403
    assert not TestDose.objects.get(pk=dose.pk).entered_in_error


def test_the_refill_table_strikes_through_a_refill_in_error(clock, patient, nurse, neurologist, implant_directly):
    pump = implant_directly(patient, neurologist, implanted_at=T0 - timedelta(days=30))
    refill = Refill.objects.create(pump=pump, refilled_at=T0 - timedelta(days=2), volume_removed_ml=Decimal("4"),
                                   volume_added_ml=Decimal("20"), concentration_mcg_per_ml=Decimal("500"), lot="RF-9",
                                   expected_residual_ml=Decimal("4"), refilled_by=nurse,
                                   entered_in_error_at=T0 - timedelta(days=1), entered_in_error_by=nurse,
                                   entered_in_error_reason="charted on the wrong pump")  # fmt: skip
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    assert '<tr class="entered-in-error"><td>' in page
    assert "RF-9" in page and "charted on the wrong pump (D4)" in page
    assert f"/refills/{refill.pk}/entered-in-error/" not in page


def test_the_patient_page_costs_constant_queries_with_records_in_error(clock, dose, patient, nurse, neurologist,
                                                                       django_assert_max_num_queries):  # fmt: skip
    observations = Observation.objects.filter(patient=patient)

    def marked(count):
        for _ in range(count):
            at = T0 + timedelta(minutes=observations.count())
            clock.move_to(at)
            screening.mark_observation_entered_in_error(actor=nurse, observation=observe(nurse, patient, at),
                                                        reason="duplicate")  # fmt: skip

    client = logged_in(neurologist)
    marked(1)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/patients/{patient.pk}/")
    marked(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/patients/{patient.pk}/").content.decode().count("duplicate (D4)") == 7
