"""The services themselves refuse the wrong role: there is no path around the API's and the pages' checks."""

from decimal import Decimal

import pytest
from django.utils import timezone

from screening import services as screening
from titration import services as titration
from titration.models import DoseChange, Pump
from wardflow.audit.models import AuditEvent
from wardflow.errors import RoleNotAllowed

pytestmark = pytest.mark.django_db


def test_only_a_neurologist_opens_a_screening_trial(make_patient, ward, nurse):
    with pytest.raises(RoleNotAllowed, match="S1"):
        screening.open_trial(actor=nurse, patient=make_patient(ward, "R1"))
    assert not AuditEvent.objects.exists()


def test_only_a_neurologist_assesses_a_response(make_patient, ward, nurse, neurologist, chart_baseline):
    trial = screening.open_trial(actor=neurologist, patient=make_patient(ward, "R2"))
    chart_baseline(nurse, trial, timezone.now())
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=timezone.now(), dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    with pytest.raises(RoleNotAllowed, match="S6"):
        screening.assess_response(actor=nurse, test_dose=dose, response="inadequate")


def test_only_a_neurologist_signs_and_only_a_nurse_programs(make_patient, ward, nurse, neurologist, administrator):
    patient = make_patient(ward, "R3")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    pump_stub = Pump(patient=patient, screening_trial=trial)
    change = DoseChange(pump=pump_stub)
    with pytest.raises(RoleNotAllowed, match="T9"):
        titration.approve_dose_change(actor=nurse, change=change, password="correct horse battery staple")
    with pytest.raises(RoleNotAllowed, match="T9"):
        titration.confirm_programming(
            actor=neurologist,
            change=change,
            programmed_at=timezone.now(),
            daily_dose_mcg=Decimal("100"),
            concentration_mcg_per_ml=Decimal("500"),
        )
    with pytest.raises(RoleNotAllowed, match="T9"):
        titration.propose_dose_change(actor=administrator, pump=pump_stub, kind="titration",
                                      new_daily_dose_mcg=Decimal("120"))  # fmt: skip
    assert not AuditEvent.objects.filter(action__startswith="dose_change.").exists()
