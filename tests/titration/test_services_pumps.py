"""implant_pump and set_phase called directly: what each act writes, and what a refusal leaves untouched."""

from decimal import Decimal

import pytest

from alerts.models import DueCheck
from tests.titration.support import candidate_trial, implant_fields
from titration import services
from titration.models import Pump
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, RoleNotAllowed, WorkflowConflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_ml_alarm_policy(settings):
    settings.WARDFLOW_POLICY = {"default_alarm_volume_ml": Decimal("4")}


def test_an_implant_without_an_alarm_volume_gets_the_hospital_default_r1(clock, nurse, neurologist, spinal_adult,
                                                                          four_ml_alarm_policy):  # fmt: skip
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    fields = implant_fields(trial)
    del fields["alarm_ml"]
    pump = services.implant_pump(actor=neurologist, patient=spinal_adult, screening_trial=trial, **fields)
    assert Pump.objects.get(pk=pump.pk).alarm_ml == Decimal("4")
    assert Decimal(AuditEvent.objects.get(action="pump.implanted").after["alarm_ml"]) == Decimal("4")


def test_an_implant_keeps_the_alarm_volume_charted(clock, nurse, neurologist, spinal_adult, four_ml_alarm_policy):
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    fields = implant_fields(trial, alarm_ml=Decimal("2"))
    pump = services.implant_pump(actor=neurologist, patient=spinal_adult, screening_trial=trial, **fields)
    assert Pump.objects.get(pk=pump.pk).alarm_ml == Decimal("2")


def test_an_implant_after_another_patients_trial_is_refused(clock, nurse, neurologist, spinal_adult, make_patient,
                                                            ward):  # fmt: skip
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    other = make_patient(ward, "OTHER-1")
    with pytest.raises(InvalidInput) as refused:
        services.implant_pump(actor=neurologist, patient=other, screening_trial=trial, **implant_fields(trial))
    assert list(refused.value.errors) == ["screening_trial"]
    assert not Pump.objects.exists()
    assert not AuditEvent.objects.filter(action="pump.implanted").exists()


def test_a_nurse_cannot_record_an_implant_t1(clock, nurse, neurologist, spinal_adult):
    trial = candidate_trial(clock, neurologist, nurse, spinal_adult)
    with pytest.raises(RoleNotAllowed) as refused:
        services.implant_pump(actor=nurse, patient=spinal_adult, screening_trial=trial, **implant_fields(trial))
    assert refused.value.rule == "T1"
    assert not Pump.objects.exists()
    assert not AuditEvent.objects.filter(action="pump.implanted").exists()


def test_a_second_implant_after_the_same_trial_is_refused_t1(implanted, neurologist, spinal_adult):
    trial = implanted.screening_trial
    with pytest.raises(WorkflowConflict) as refused:
        services.implant_pump(actor=neurologist, patient=spinal_adult, screening_trial=trial,
                              **implant_fields(trial, serial="SN-SECOND"))  # fmt: skip
    assert refused.value.rule == "T1"
    assert Pump.objects.count() == 1
    assert AuditEvent.objects.filter(action="pump.implanted").count() == 1


def test_ending_titration_cancels_the_pending_step_check_t3(active_pump, neurologist):
    step_checks = DueCheck.objects.filter(kind="titration.step_due", state="pending")
    assert step_checks.count() == 1
    services.set_phase(actor=neurologist, pump=active_pump, phase="maintenance", reason="stable on 100 mcg/day")
    assert Pump.objects.get().phase == "maintenance"
    assert not step_checks.exists()
    assert AuditEvent.objects.filter(action="pump.phase_changed").count() == 1


def test_the_phase_in_force_cannot_be_set_again(active_pump, neurologist):
    with pytest.raises(WorkflowConflict) as refused:
        services.set_phase(actor=neurologist, pump=active_pump, phase="titration", reason="still titrating")
    assert refused.value.rule == "T5"
    assert DueCheck.objects.filter(kind="titration.step_due", state="pending").count() == 1
    assert not AuditEvent.objects.filter(action="pump.phase_changed").exists()
