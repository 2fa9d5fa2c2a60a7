"""The neurologist's assessment of the response to a test dose (S6-S9), beside the system's suggestion (S7)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.protocol import Response, TrialState

from ..kinds import AuditAction, CheckKind
from ..models import Assessment, TestDose
from ..selectors import assess_refusal, in_force, suggestion_for
from .trials import lock_trial


@transaction.atomic
def assess_response(
    *,
    actor,
    test_dose: TestDose,
    response: Response,
    duration_hours: Decimal | None = None,
    assessed_at: datetime | None = None,
    note: str = "",
) -> Assessment:
    """S6-S9: the neurologist decides; the trial moves to the next rung, candidate or not candidate."""
    trial = lock_trial(test_dose.trial)
    # Read after the lock: a concurrent assessment of the same dose is seen here (S6).
    dose = TestDose.objects.select_related("trial", "assessment").get(pk=test_dose.pk)
    if refusal := assess_refusal(actor, dose):
        raise refusal
    now = timezone.now()
    assessed_at = assessed_at or now
    ensure_clinical_time("assessed_at", assessed_at, trial.patient, now)
    observations = in_force(trial.observations.all())  # D4: one entered in error does not open the window (S6)
    charted_by_then = [o.observed_at for o in observations if o.observed_at <= assessed_at]
    if not protocol.may_be_assessed(dose.administered_at, charted_by_then):
        raise WorkflowConflict(
            "S6: the response is assessed only once an observation at 4 h or later after the dose is charted.",
            rule="S6",
        )
    if response == Response.POSITIVE and (problem := protocol.response_duration_problem(duration_hours)):
        raise InvalidInput({"duration_hours": [problem]}, rule="S8")
    if response == Response.INADEQUATE:
        duration_hours = None
    earlier = [d for d in trial.doses.all() if d.number < dose.number]
    suggestion = suggestion_for(dose, earlier, observations)
    next_state = protocol.state_after_assessment(dose.number, response)
    assessment = Assessment.objects.create(
        test_dose=dose,
        response=response,
        duration_hours=duration_hours,
        suggested_response=suggestion.response or "",
        suggestion_reason=suggestion.reason,
        assessed_at=assessed_at,
        note=note,
        assessed_by=actor,
    )
    trial.conclude_dose(next_state)
    if next_state != TrialState.AWAITING_DOSE:
        trial.closed_at = assessed_at
    trial.save()
    rules = ["S6", "S7", "S9"] + (["S8"] if response == Response.POSITIVE else [])
    if next_state == TrialState.AWAITING_DOSE:
        alerts.schedule_check(
            CheckKind.NEXT_DOSE_DUE,
            due_at=protocol.earliest_next_test_dose(dose.administered_at),
            patient=trial.patient,
            subject=trial,
            payload={"number": dose.number + 1},
        )
    record_event(
        actor=actor,
        action=AuditAction.RESPONSE_ASSESSED,
        at=assessed_at,
        patient=trial.patient,
        subject=assessment,
        before={"trial_state": TrialState.OBSERVING},
        after={
            "dose_number": dose.number,
            "dose_mcg": dose.dose_mcg,
            "response": response,
            "duration_hours": duration_hours,
            "suggested_response": suggestion.response,
            "differs_from_suggestion": suggestion.response is not None and suggestion.response != response,
            "trial_state": trial.state,
        },
        rules=rules,
        reason=note,
    )
    return assessment
