"""Every lock taken on purpose: an act locks the rows it changes, not the patient or the ward it reads along with
them, so that a busy ward's other acts do not queue behind it. Each test holds an act's locks open and asks a second
connection whether a row can be locked at once (FOR NO KEY UPDATE NOWAIT: the rows an insert refers to stay free)."""

import threading

import pytest
from django.db import DatabaseError, connections, transaction

from alerts import services as alerts
from alerts.models import Alert
from screening.models import ScreeningTrial
from screening.services.trials import lock_current_trial, lock_trial, open_trial
from wardflow import protocol
from wardflow.patients.models import Patient
from wardflow.patients.services import update_patient_flags
from wardflow.staff.models import Role, Ward

pytestmark = pytest.mark.django_db(transaction=True)


def lockable_now(model, pk) -> bool:
    """Whether another connection could lock the row for an update without waiting."""
    answer = {}

    def probe():
        try:
            with transaction.atomic():
                model.objects.select_for_update(nowait=True, no_key=True).get(pk=pk)
            answer["free"] = True
        except DatabaseError:
            answer["free"] = False
        finally:
            connections.close_all()

    prober = threading.Thread(target=probe)
    prober.start()
    prober.join()
    return answer["free"]


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "LOCK-1")


@pytest.mark.parametrize(
    "lock", [lambda trial: lock_trial(trial), lambda trial: lock_current_trial(trial.patient)], ids=["named", "current"]
)
def test_an_act_on_a_trial_locks_the_trial_not_its_patient_or_ward(allow_audit_flush, patient, ward, neurologist, lock):
    """S10: charting and the trial's acts queue on the trial; the patient's ward goes on with its other patients."""
    trial = open_trial(actor=neurologist, patient=patient)
    with transaction.atomic():
        assert lock(trial).pk == trial.pk
        assert not lockable_now(ScreeningTrial, trial.pk)
        assert lockable_now(Patient, patient.pk)
        assert lockable_now(Ward, ward.pk)


def test_charting_a_patients_flags_locks_the_patient_not_the_ward(allow_audit_flush, patient, ward, nurse):
    with transaction.atomic():
        update_patient_flags(actor=nurse, patient=patient, changes={"active_infection": True}, reason="P1: fever")
        assert not lockable_now(Patient, patient.pk)
        assert lockable_now(Ward, ward.pk)


@pytest.fixture
def open_alert(patient):
    with transaction.atomic():
        return alerts.raise_alert(kind="test.alert", severity=protocol.Severity.WARNING, patient=patient, rule="A2",
                                  message="A2: test", target_role=Role.NURSE)  # fmt: skip


def test_acknowledging_an_alert_locks_the_alert_not_its_patient(allow_audit_flush, patient, nurse, open_alert):
    with transaction.atomic():
        assert alerts.acknowledge_alert(actor=nurse, alert=open_alert).state == Alert.State.ACKNOWLEDGED
        assert lockable_now(Patient, patient.pk)


def test_resolving_a_patients_alerts_locks_the_alerts_not_the_patient(allow_audit_flush, patient, open_alert):
    """As a refill or a read-back does for the pump's refill alerts (R3)."""
    with transaction.atomic():
        assert alerts.resolve_alerts(patient=patient, kinds=[open_alert.kind]) == 1
        assert lockable_now(Patient, patient.pk)
