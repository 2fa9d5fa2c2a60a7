"""T1/A1: with the pump in, the screening trial that led to it has nothing more due: its pending observation checks are
cancelled and its open observation-overdue alerts resolved in the implant's transaction, each resolution audited (A2);
alerts about what was charted stay for their review. A cancelled trial closes the same way."""

from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from alerts import services as alerts
from alerts.models import Alert, DueCheck
from screening import services as screening
from screening.kinds import AlertKind, CheckKind
from tests.titration.support import at, candidate_trial, implant_fields
from titration import services as titration
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput
from wardflow.protocol import Severity
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(at(days=-6), tick=False) as traveller:
        yield traveller


@pytest.fixture
def missed_screening(clock, patient, nurse, neurologist):
    """A candidate trial whose 1 h and 2 h observations were never charted (two A1 alerts, their escalation pending) and
    whose 3 h and 5-8 h checks are still pending."""
    trial = candidate_trial(clock, neurologist, nurse, patient)
    alerts.dispatch_due_checks(now=at(days=-5, hours=3))
    assert Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE).exclude(state="resolved").count() == 2
    assert DueCheck.objects.filter(kind=CheckKind.OBSERVATION_OVERDUE, state="pending").exists()
    return trial


def implant(trial, patient, neurologist):
    return titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial))


def test_the_implant_cancels_the_screening_checks_still_pending(missed_screening, patient, neurologist):
    implant(missed_screening, patient, neurologist)
    screening_kinds = [CheckKind.OBSERVATION_OVERDUE, CheckKind.NEXT_DOSE_DUE]
    assert not DueCheck.objects.filter(kind__in=screening_kinds, state="pending").exists()
    alerts.dispatch_due_checks()  # what was pending raises nothing now
    assert not Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE).exclude(state="resolved").exists()


def test_the_implant_resolves_the_open_observation_alerts_each_audited(missed_screening, patient, neurologist):
    acknowledged = Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE).earliest("raised_at")
    with transaction.atomic():
        alerts.acknowledge_alert(actor=neurologist, alert=acknowledged)
    implant(missed_screening, patient, neurologist)
    overdue = Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE)
    assert set(overdue.values_list("state", flat=True)) == {"resolved"}
    resolved = AuditEvent.objects.filter(action="alert.resolved", actor=neurologist, patient=patient)
    assert resolved.count() == 2
    assert not DueCheck.objects.filter(kind="alert.escalate", state="pending").exists()  # nothing left to escalate


def test_an_alert_about_what_was_charted_stays_open_after_the_implant(missed_screening, patient, neurologist):
    with transaction.atomic():
        signs = alerts.raise_alert(kind=AlertKind.OVERDOSE_SIGNS, severity=Severity.URGENT, patient=patient,
                                   rule="O1", message="O1: drowsiness charted.", target_role=Role.NEUROLOGIST,
                                   subject=patient)  # fmt: skip
    implant(missed_screening, patient, neurologist)
    signs.refresh_from_db()
    assert signs.state == "open"


def test_a_refused_implant_closes_nothing(missed_screening, patient, neurologist):
    fields = implant_fields(missed_screening, alarm_ml=Decimal("25"))  # R1: above the 20 mL reservoir
    with pytest.raises(InvalidInput):
        titration.implant_pump(actor=neurologist, patient=patient, screening_trial=missed_screening, **fields)
    assert DueCheck.objects.filter(kind=CheckKind.OBSERVATION_OVERDUE, state="pending").exists()
    assert Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE).exclude(state="resolved").count() == 2


def test_a_cancelled_trial_resolves_its_observation_alerts_too(clock, patient, nurse, neurologist, chart_baseline):
    trial = screening.open_trial(actor=neurologist, patient=patient)
    chart_baseline(nurse, trial, at(days=-6))
    screening.give_test_dose(actor=nurse, trial=trial, administered_at=at(days=-6), dose_mcg=Decimal("50"),
                             volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                             resuscitation_ready=True)  # fmt: skip
    alerts.dispatch_due_checks(now=at(days=-6, hours=3))  # the 1 h and 2 h observations missed
    acknowledged = Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE).earliest("raised_at")
    with transaction.atomic():
        alerts.acknowledge_alert(actor=nurse, alert=acknowledged)
    screening.cancel_trial(actor=neurologist, trial=trial, reason="patient declined the implant")
    assert set(Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE).values_list("state", flat=True)) == {"resolved"}
    assert AuditEvent.objects.filter(action="alert.resolved", actor=neurologist, patient=patient).count() == 2
    assert not DueCheck.objects.filter(kind=CheckKind.OBSERVATION_OVERDUE, state="pending").exists()
