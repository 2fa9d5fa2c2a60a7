"""Screening trial acts (S1-S10, P1-P5). Each is one transaction: lock the trial, check the protocol, change state,
write one audit event (D1), and schedule or close its due-checks."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from alerts import services as alerts
from alerts.models import Alert, DueCheck
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_not_future, future_problem
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.patients.signals import patient_flags_changed
from wardflow.policy import current_policy
from wardflow.protocol import Response, Severity, TrialState
from wardflow.staff.models import Role
from wardflow.staff.roles import require_role

from .models import OPEN_STATES, Assessment, Observation, ScreeningTrial, TestDose

OBSERVATION_OVERDUE = "screening.observation_overdue"
NEXT_DOSE_DUE = "screening.next_dose_due"


def _locked(trial: ScreeningTrial) -> ScreeningTrial:
    # Every act on a trial starts by locking its row: concurrent acts queue and then see the new state.
    return ScreeningTrial.objects.select_for_update().select_related("patient", "patient__ward").get(pk=trial.pk)


def _closed_conflict(trial: ScreeningTrial) -> WorkflowConflict:
    if trial.state == TrialState.SUSPENDED:
        return WorkflowConflict("The trial is suspended pending neurologist review.", rule="S10")
    return WorkflowConflict(f"The trial is closed ({trial.state}).", rule="S9")


@transaction.atomic
def open_trial(*, actor, patient, first_dose_mcg: Decimal | None = None, reason: str = "", override_reason: str = ""):
    """A neurologist starts screening: P2 (under 4 needs a reasoned override), S2 (25 mcg start, pediatric)."""
    require_role(actor, Role.NEUROLOGIST, rule="S1", doing="open a screening trial")
    now = timezone.now()
    policy = current_policy()
    rules = ["S1"]
    age = patient.age_years(timezone.localdate())
    if age < protocol.MIN_SCREENING_AGE_YEARS:
        if not override_reason.strip():
            raise WorkflowConflict(
                f"P2: the patient is {age} years old; intrathecal safety under {protocol.MIN_SCREENING_AGE_YEARS} "
                "is not established. A neurologist may override with a written reason (override_reason).",
                rule="P2",
            )
        rules.append("P2")
    band = protocol.age_band(patient.date_of_birth, timezone.localdate(), policy)
    first_dose = protocol.TEST_DOSE_LADDER_MCG[0] if first_dose_mcg is None else first_dose_mcg
    if first_dose not in protocol.first_test_dose_choices(band):
        if first_dose == protocol.PEDIATRIC_FIRST_DOSE_MCG:
            raise WorkflowConflict("S2: a 25 mcg first test dose is for pediatric patients only.", rule="S2")
        raise InvalidInput({"first_dose_mcg": [f"S1: the first test dose is {protocol.TEST_DOSE_LADDER_MCG[0]} mcg."]})
    if first_dose == protocol.PEDIATRIC_FIRST_DOSE_MCG:
        if not reason.strip():
            raise InvalidInput({"reason": ["S2: give the reason for a 25 mcg first test dose."]})
        rules.append("S2")
    if ScreeningTrial.objects.filter(patient=patient, state__in=[*OPEN_STATES, TrialState.SUSPENDED]).exists():
        raise WorkflowConflict("This patient already has an open screening trial.", rule="S1")
    try:
        with transaction.atomic():
            trial = ScreeningTrial.objects.create(
                patient=patient,
                first_dose_mcg=first_dose,
                first_dose_reason=reason if first_dose == protocol.PEDIATRIC_FIRST_DOSE_MCG else "",
                age_override_reason=override_reason if "P2" in rules else "",
                opened_by=actor,
                opened_at=now,
            )
    except IntegrityError as exc:  # a concurrent request opened one first
        raise WorkflowConflict("This patient already has an open screening trial.", rule="S1") from exc
    record_event(
        actor=actor,
        action="screening.opened",
        at=now,
        patient=patient,
        subject=trial,
        after={"state": trial.state, "first_dose_mcg": first_dose, "age_years": age, "age_band": band},
        rules=rules,
        reason="; ".join(r for r in (override_reason, reason) if r.strip()),
    )
    return trial


@transaction.atomic
def give_test_dose(
    *,
    actor,
    trial: ScreeningTrial,
    administered_at: datetime,
    dose_mcg: Decimal,
    volume_ml: Decimal,
    lot: str,
    route: str,
    injection_seconds: int,
    resuscitation_ready: bool,
) -> TestDose:
    require_role(actor, Role.NURSE, Role.NEUROLOGIST, rule="S4", doing="give a test dose")
    trial = _locked(trial)
    patient = trial.patient
    ensure_not_future("administered_at", administered_at)
    if trial.state == TrialState.OBSERVING:
        raise WorkflowConflict("The previous test dose has not been assessed yet (S6, S9).", rule="S9")
    if trial.state != TrialState.AWAITING_DOSE:
        raise _closed_conflict(trial)
    if patient.active_infection:
        raise WorkflowConflict(
            "P1: the patient has a charted active infection; no test dose until it is charted resolved.", rule="P1"
        )
    doses = list(trial.doses.all())
    number = len(doses) + 1
    expected = protocol.ladder_dose_mcg(number, trial.first_dose_mcg)
    if doses:
        earliest = protocol.earliest_next_test_dose(doses[-1].administered_at)
        if administered_at < earliest:
            raise WorkflowConflict(
                f"S3: test dose {number} may be given no earlier than 24 h after dose {number - 1}, "
                f"from {timezone.localtime(earliest):%Y-%m-%d %H:%M}.",
                rule="S3",
                next_dose_due_at=earliest,
            )
    errors = {}
    if dose_mcg != expected:
        errors["dose_mcg"] = [f"S1: test dose {number} is {expected} mcg, not {dose_mcg} mcg."]
    elif volume_ml != protocol.ladder_volume_ml(expected):
        right = protocol.ladder_volume_ml(expected)
        errors["volume_ml"] = [f"S1: {expected} mcg of the 50 mcg/mL solution is {right} mL, not {volume_ml} mL."]
    if injection_seconds < protocol.MIN_INJECTION_SECONDS:
        minimum = protocol.MIN_INJECTION_SECONDS
        errors["injection_seconds"] = [
            f"S4: inject over at least {minimum} s with barbotage ({injection_seconds} s charted)."
        ]
    if resuscitation_ready is not True:
        errors["resuscitation_ready"] = ["S4: confirm that resuscitation equipment is at hand before the dose."]
    if errors:
        raise InvalidInput(errors, rule="S4" if "dose_mcg" not in errors and "volume_ml" not in errors else "S1")
    dose = TestDose.objects.create(
        trial=trial,
        number=number,
        dose_mcg=dose_mcg,
        volume_ml=volume_ml,
        administered_at=administered_at,
        lot=lot,
        route=route,
        injection_seconds=injection_seconds,
        resuscitation_ready=True,
        given_by=actor,
    )
    trial.start_observing()
    trial.save()
    policy = current_policy()
    for due in protocol.observation_schedule(administered_at, policy):
        alerts.schedule_check(
            OBSERVATION_OVERDUE,
            due_at=protocol.observation_overdue_at(due, policy),
            patient=patient,
            subject=dose,
            payload={"slot_due_at": due.isoformat()},
        )
    alerts.cancel_checks(subject=trial, kinds=[NEXT_DOSE_DUE])
    alerts.resolve_alerts(subject=trial, kinds=["next_test_dose_due"], actor=actor)
    rules = ["S1", "S4"] + (["S3"] if doses else []) + (["S2"] if expected == protocol.PEDIATRIC_FIRST_DOSE_MCG else [])
    record_event(
        actor=actor,
        action="test_dose.given",
        at=administered_at,
        patient=patient,
        subject=dose,
        before={"trial_state": TrialState.AWAITING_DOSE},
        after={
            "trial_state": trial.state,
            "number": number,
            "dose_mcg": dose_mcg,
            "volume_ml": volume_ml,
            "lot": lot,
            "route": route,
            "injection_seconds": injection_seconds,
        },
        rules=rules,
    )
    return dose


def observations_due(dose: TestDose) -> list[datetime]:
    return protocol.observation_schedule(dose.administered_at, current_policy())


def _validate_observation(observed_at: datetime, values: dict, signs: list[str]) -> None:
    errors = {}
    if problem := future_problem(observed_at):
        errors["observed_at"] = [problem]
    for field, (low, high) in protocol.VITAL_SIGN_BOUNDS.items():
        value = values[field]
        if not low <= value <= high:
            errors[field] = [f"S5: {value} is outside {low}-{high}; check the reading."]
    unknown = sorted(set(signs) - protocol.ALL_SIGNS)
    if unknown:
        errors["signs"] = [f"Unknown sign(s): {', '.join(unknown)}."]
    if errors:
        raise InvalidInput(errors, rule="S5")


@transaction.atomic
def chart_observation(*, actor, patient, trial: ScreeningTrial | None = None, observed_at: datetime, signs=(),
                      **values) -> Observation:  # fmt: skip
    """S5 charting, during a screening trial or for an implanted patient: W1/O1 signs raise urgent alerts, S10 signs
    suspend an open trial."""
    signs = list(dict.fromkeys(signs))
    before_state = None
    if trial is not None:
        trial = _locked(trial)
        before_state = trial.state
    _validate_observation(observed_at, values, signs)
    if trial is not None and trial.state not in (*OPEN_STATES, TrialState.SUSPENDED):
        raise _closed_conflict(trial)
    observation = Observation.objects.create(
        patient=patient, trial=trial, observed_at=observed_at, signs=signs, charted_by=actor, **values
    )
    rules = ["S5"]
    if trial is not None and protocol.stops_trial(signs) and trial.state in OPEN_STATES:
        trial.suspend()
        trial.status_reason = "S10: serious adverse event charted: " + ", ".join(
            sorted(protocol.SERIOUS_ADVERSE_SIGNS & set(signs))
        )
        trial.save()
    rules += raise_sign_alerts(observation)
    _resolve_filled_slots(observation, actor)
    state_changed = trial is not None and trial.state != before_state
    record_event(
        actor=actor,
        action="observation.charted",
        at=observed_at,
        patient=patient,
        subject=observation,
        before={"trial_state": before_state} if state_changed else None,
        after={**values, "signs": signs, **({"trial_state": trial.state} if state_changed else {})},
        rules=rules,
    )
    return observation


def raise_sign_alerts(observation: Observation) -> list[str]:
    """W1, O1, S10: urgent alerts to the ward's neurologists for the signs charted. Returns the rules applied."""
    signs = set(observation.signs)
    raised = []
    serious = protocol.SERIOUS_ADVERSE_SIGNS & signs
    overdose = protocol.OVERDOSE_SIGNS & signs
    withdrawal = protocol.WITHDRAWAL_SIGNS & signs
    if serious:
        message = f"S10: {', '.join(sorted(serious))} charted. {protocol.OVERDOSE_GUIDANCE}"
        if observation.trial_id:
            message += " Screening is suspended pending neurologist review."
        raised += _urgent(observation, "serious_adverse_event", "S10", message)
    elif overdose:
        message = f"{', '.join(sorted(overdose))} charted. {protocol.OVERDOSE_GUIDANCE}"
        raised += _urgent(observation, "overdose_signs", "O1", message)
    if withdrawal:
        message = f"{', '.join(sorted(withdrawal))} charted. {protocol.WITHDRAWAL_GUIDANCE}"
        raised += _urgent(observation, "withdrawal_signs", "W1", message)
    return raised


def _urgent(observation: Observation, kind: str, rule: str, message: str) -> list[str]:
    alerts.raise_alert(
        kind=kind,
        severity=Severity.URGENT,
        patient=observation.patient,
        rule=rule,
        message=message,
        target_role=Role.NEUROLOGIST,
        subject=observation,
        due_at=observation.observed_at,
    )
    return [rule]


def _resolve_filled_slots(observation: Observation, actor) -> None:
    """An observation closes the check of the time it was due (so the ward sees the next one), and the overdue
    alert of that time if it was charted late."""
    policy = current_policy()
    slots = DueCheck.objects.filter(patient=observation.patient, kind=OBSERVATION_OVERDUE, state=DueCheck.State.PENDING)
    filled = [c.pk for c in slots if protocol.observation_fills_slot(
        observation.observed_at, datetime.fromisoformat(c.payload["slot_due_at"]), policy)]  # fmt: skip
    alerts.cancel_checks(ids=filled)
    for alert in Alert.objects.filter(
        patient=observation.patient, kind="observation_overdue", state__in=[Alert.State.OPEN, Alert.State.ESCALATED]
    ).select_for_update():
        if alert.due_at and protocol.observation_fills_slot(observation.observed_at, alert.due_at, policy):
            alerts.resolve_alerts(subject=alert.source_check, kinds=["observation_overdue"], actor=actor)


def baseline_and_window(dose: TestDose, earlier_doses: list[TestDose], observations: list[Observation]):
    """S5/S7: the dose's baseline is the last observation before it and after the previous dose's window; its
    window holds the observations 4-8 h after it."""
    window_end = timedelta(hours=protocol.ASSESSMENT_WINDOW_HOURS[1])
    not_before = earlier_doses[-1].administered_at + window_end if earlier_doses else None
    before = [
        o
        for o in observations
        if o.observed_at < dose.administered_at and (not_before is None or o.observed_at > not_before)
    ]
    window = [o for o in observations if protocol.in_assessment_window(dose.administered_at, o.observed_at)]
    return (before[-1] if before else None), window


def suggestion_for(
    dose: TestDose, earlier_doses: list[TestDose], observations: list[Observation]
) -> protocol.Suggestion:
    baseline, window = baseline_and_window(dose, earlier_doses, observations)
    as_scores = lambda o: protocol.Scores(o.ashworth_mean, o.penn_spasm_frequency)  # noqa: E731
    return protocol.suggest_response(
        as_scores(baseline) if baseline else None, [as_scores(o) for o in window], current_policy()
    )


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
    require_role(actor, Role.NEUROLOGIST, rule="S6", doing="assess a response")
    trial = _locked(test_dose.trial)
    now = timezone.now()
    assessed_at = assessed_at or now
    ensure_not_future("assessed_at", assessed_at, now)
    dose = TestDose.objects.get(pk=test_dose.pk)
    if Assessment.objects.filter(test_dose=dose).exists():
        raise WorkflowConflict(f"Test dose {dose.number} has already been assessed.", rule="S6")
    if trial.state != TrialState.OBSERVING:
        raise _closed_conflict(trial)
    observations = list(trial.observations.all())
    charted_by_then = [o.observed_at for o in observations if o.observed_at <= assessed_at]
    if not protocol.may_be_assessed(dose.administered_at, charted_by_then):
        raise WorkflowConflict(
            "S6: the response is assessed only once an observation at 4 h or later after the dose is charted.",
            rule="S6",
        )
    if response == Response.POSITIVE and duration_hours is None:
        raise InvalidInput({"duration_hours": ["S8: record how many hours the positive response lasted."]})
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
            NEXT_DOSE_DUE,
            due_at=protocol.earliest_next_test_dose(dose.administered_at),
            patient=trial.patient,
            subject=trial,
            payload={"number": dose.number + 1},
        )
    record_event(
        actor=actor,
        action="response.assessed",
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


def _change_trial_state(*, actor, trial: ScreeningTrial, transition: str, action: str, reason: str, rules: list[str],
                        conflict) -> ScreeningTrial:  # fmt: skip
    """A neurologist's reasoned state change (suspend, resume, cancel): transition, reason, audit event."""
    if rules != ["P1"]:  # P1: charting an infection suspends the trial, whoever charts it
        require_role(actor, Role.NEUROLOGIST, rule=rules[0], doing="suspend, resume or cancel a trial")
    if not reason.strip():
        raise InvalidInput({"reason": ["Give the reason for this change to the trial."]})
    before = trial.state
    try:
        getattr(trial, transition)()
    except TransitionNotAllowed as exc:
        raise conflict(trial) from exc
    trial.status_reason = reason
    if trial.state == TrialState.CANCELLED:
        trial.closed_at = timezone.now()
    trial.save()
    record_event(actor=actor, action=action, patient=trial.patient, subject=trial, before={"state": before},
                 after={"state": trial.state}, rules=rules, reason=reason)  # fmt: skip
    return trial


@transaction.atomic
def suspend_trial(*, actor, trial: ScreeningTrial, reason: str, rule: str = "S10") -> ScreeningTrial:
    """S10 (or P1): hold the trial pending neurologist review."""
    return _change_trial_state(actor=actor, trial=_locked(trial), transition="suspend", action="screening.suspended",
                               reason=reason, rules=[rule], conflict=_closed_conflict)  # fmt: skip


def _not_suspended(trial: ScreeningTrial) -> WorkflowConflict:
    return WorkflowConflict(f"Only a suspended trial can be resumed (it is {trial.state}).", rule="S10")


@transaction.atomic
def resume_trial(*, actor, trial: ScreeningTrial, reason: str) -> ScreeningTrial:
    """A neurologist resumes a suspended trial after review; never while an infection is charted (P1)."""
    trial = _locked(trial)
    if trial.state == TrialState.SUSPENDED and trial.patient.active_infection:
        raise WorkflowConflict("P1: chart the active infection resolved before screening resumes.", rule="P1")
    return _change_trial_state(actor=actor, trial=trial, transition="resume", action="screening.resumed",
                               reason=reason, rules=["S10"], conflict=_not_suspended)  # fmt: skip


@transaction.atomic
def cancel_trial(*, actor, trial: ScreeningTrial, reason: str) -> ScreeningTrial:
    trial = _change_trial_state(actor=actor, trial=_locked(trial), transition="cancel", action="screening.cancelled",
                                reason=reason, rules=["S1"], conflict=_closed_conflict)  # fmt: skip
    alerts.cancel_checks(subject=trial)
    for dose in trial.doses.all():
        alerts.cancel_checks(subject=dose)
    return trial


def _suspend_for_infection(sender, *, actor, patient, changed, **kwargs):
    """P1: an infection charted mid-trial suspends the open trial (runs inside the flag change's transaction)."""
    if not changed.get("active_infection"):
        return
    for trial in ScreeningTrial.objects.filter(patient=patient, state__in=OPEN_STATES):
        suspend_trial(actor=actor, trial=trial, reason="P1: active infection charted during screening.", rule="P1")


patient_flags_changed.connect(_suspend_for_infection, dispatch_uid="screening.p1")


@alerts.check_handler(OBSERVATION_OVERDUE)
def _observation_overdue(check, now):
    """A1: raise "observation overdue" unless an observation for that time has been charted."""
    dose = TestDose.objects.select_related("trial").get(pk=check.subject_id)
    if dose.trial.state == TrialState.CANCELLED:
        return
    slot_due = datetime.fromisoformat(check.payload["slot_due_at"])
    policy = current_policy()
    window = timedelta(minutes=policy.observation_slot_minutes)
    charted = dose.trial.observations.filter(observed_at__range=(slot_due - window, slot_due + window))
    if any(protocol.observation_fills_slot(o.observed_at, slot_due, policy) for o in charted):
        return
    hours = round((slot_due - dose.administered_at).total_seconds() / 3600)
    alerts.raise_alert(
        kind="observation_overdue",
        severity=Severity.WARNING,
        patient=check.patient,
        rule="A1",
        message=f"A1: the {hours} h observation after test dose {dose.number} ({dose.dose_mcg} mcg) was due at "
        f"{timezone.localtime(slot_due):%H:%M} and has not been charted.",
        target_role=Role.NURSE,
        subject=check,
        due_at=slot_due,
        source_check=check,
        at=now,
    )


@alerts.check_handler(NEXT_DOSE_DUE)
def _next_dose_due(check, now):
    """S3/S9: tell the ward that the next rung may now be given."""
    trial = ScreeningTrial.objects.get(pk=check.subject_id)
    number = check.payload["number"]
    if trial.state != TrialState.AWAITING_DOSE or trial.doses.filter(number=number).exists():
        return
    dose = protocol.ladder_dose_mcg(number, trial.first_dose_mcg)
    alerts.raise_alert(
        kind="next_test_dose_due",
        severity=Severity.INFO,
        patient=check.patient,
        rule="S3",
        message=f"S3: test dose {number} ({dose} mcg, {protocol.ladder_volume_ml(dose)} mL) may be given now.",
        target_role=Role.NURSE,
        subject=trial,
        due_at=check.due_at,
        source_check=check,
        at=now,
    )
