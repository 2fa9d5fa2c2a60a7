"""assess_response called directly: when a response may be assessed (S6), and where the trial goes next (S8, S9)."""

from decimal import Decimal

import pytest

from alerts.models import DueCheck
from screening import selectors, services
from screening.models import Assessment
from tests.screening.support import chart_on, hours
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, RoleNotAllowed, WorkflowConflict
from wardflow.protocol import TrialState

pytestmark = pytest.mark.django_db


@pytest.fixture
def observed(clock, dose, nurse):
    """Dose 1 with its 4 h observation charted (Ashworth 1.5, from a baseline of 3), the clock just after it."""
    clock.move_to(hours(4.1))
    chart_on(nurse, dose.trial.patient, hours(4), ashworth="1.5")
    return dose


def test_no_assessment_before_a_4_h_observation_s6(clock, dose, nurse, neurologist):
    clock.move_to(hours(3.5))
    chart_on(nurse, dose.trial.patient, hours(3))
    with pytest.raises(WorkflowConflict) as refused:
        services.assess_response(actor=neurologist, test_dose=dose, response="inadequate")
    assert refused.value.rule == "S6"
    assert not Assessment.objects.exists()
    assert not AuditEvent.objects.filter(action="response.assessed").exists()
    dose.trial.refresh_from_db()
    assert dose.trial.state == TrialState.OBSERVING


def test_an_inadequate_response_to_dose_1_schedules_dose_2_after_24_h_s9(observed, neurologist):
    services.assess_response(actor=neurologist, test_dose=observed, response="inadequate")
    observed.trial.refresh_from_db()
    assert (observed.trial.state, observed.trial.closed_at) == (TrialState.AWAITING_DOSE, None)
    due = DueCheck.objects.get(kind="screening.next_dose_due")
    assert (due.due_at, due.payload) == (hours(24), {"number": 2})


def test_a_positive_response_makes_a_candidate_and_keeps_the_suggestion_beside_it_s7(observed, neurologist):
    assessment = services.assess_response(actor=neurologist, test_dose=observed, response="positive",
                                          duration_hours=Decimal("6"))  # fmt: skip
    observed.trial.refresh_from_db()
    assert (observed.trial.state, observed.trial.closed_at) == (TrialState.CANDIDATE, hours(4.1))
    assert (assessment.suggested_response, assessment.duration_hours) == ("positive", Decimal("6"))
    assert not DueCheck.objects.filter(kind="screening.next_dose_due").exists()


def test_a_positive_response_without_its_duration_is_refused_s8(observed, neurologist):
    with pytest.raises(InvalidInput) as refused:
        services.assess_response(actor=neurologist, test_dose=observed, response="positive")
    assert list(refused.value.errors) == ["duration_hours"]
    assert not Assessment.objects.exists()


def test_a_positive_response_of_0_h_is_refused_as_it_would_double_the_implant_dose_s8(observed, neurologist):
    with pytest.raises(InvalidInput) as refused:
        services.assess_response(actor=neurologist, test_dose=observed, response="positive", duration_hours=Decimal(0))
    assert (refused.value.rule, list(refused.value.errors)) == ("S8", ["duration_hours"])
    assert not Assessment.objects.exists()
    assert not AuditEvent.objects.filter(action="response.assessed").exists()
    observed.trial.refresh_from_db()
    assert observed.trial.state == TrialState.OBSERVING


def test_a_dose_is_assessed_once_s6(observed, neurologist):
    services.assess_response(actor=neurologist, test_dose=observed, response="inadequate")
    assert not selectors.may_assess(neurologist, Assessment.objects.get().test_dose)
    with pytest.raises(WorkflowConflict) as refused:
        services.assess_response(actor=neurologist, test_dose=observed, response="positive", duration_hours=Decimal(6))
    assert refused.value.rule == "S6"
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.assessed").count() == 1


def test_a_nurse_may_not_assess_s6(observed, nurse, neurologist):
    assert selectors.may_assess(neurologist, observed)
    assert not selectors.may_assess(nurse, observed)
    with pytest.raises(RoleNotAllowed, match="S6"):
        services.assess_response(actor=nurse, test_dose=observed, response="inadequate")
    assert not Assessment.objects.exists()
