"""Charting an observation (S5): during screening or for an implanted patient. Signs raise alerts (S10, O1, W1) whose
guidance fits whether the patient has a pump; a serious adverse event suspends an open trial (S10); a charted time
closes its due check (A1). Every observation carries its NEWS2, and a raised one alerts the neurologists (V1)."""

from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import JSONObject

from alerts import services as alerts
from alerts.models import Alert, DueCheck
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import clinical_time_problem
from wardflow.compiled import CompiledInsert, CompiledRead
from wardflow.errors import InvalidInput
from wardflow.patients.models import Patient
from wardflow.policy import current_policy
from wardflow.protocol import SignsMeaning
from wardflow.staff.models import Role

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import OPEN_STATES, Observation, ScreeningTrial
from ..selectors import (
    CURRENT_STATES,
    closed_trial_refusal,
    has_pump_in_place,
    intrathecal_infusion_started,
    news2_values,
)
from .trials import lock_current_trial, lock_trial

_OBSERVATION_INSERT = CompiledInsert(Observation)

SIGNS_ALERT_KINDS = {
    SignsMeaning.SERIOUS_ADVERSE_EVENT: AlertKind.SERIOUS_ADVERSE_EVENT,
    SignsMeaning.OVERDOSE: AlertKind.OVERDOSE_SIGNS,
    SignsMeaning.WITHDRAWAL: AlertKind.WITHDRAWAL_SIGNS,
    SignsMeaning.BOLUS_ADVERSE_EFFECT: AlertKind.BOLUS_ADVERSE_EFFECT,
}


def _validate_observation(patient, observed_at: datetime, values: dict, signs: list[str]) -> None:
    errors = {}
    if problem := clinical_time_problem(observed_at, patient):
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
def chart_observation(*, actor, patient, observed_at: datetime, signs=(), trial: ScreeningTrial | None = None,
                      on_oxygen: bool = False, late_reason: str = "", **values) -> Observation:  # fmt: skip
    """Without a trial given, the observation belongs to the patient's open or suspended trial, if any (S10: a
    suspended trial keeps its observations), so that it counts for that trial's assessment window (S7).
    `late_reason`: why it is charted late (optional; the record shows the delay itself)."""
    signs = list(dict.fromkeys(signs))
    trial = lock_current_trial(patient) if trial is None else lock_trial(trial)
    before_state = trial.state if trial is not None else None
    _validate_observation(patient, observed_at, values, signs)
    if trial is not None and trial.state not in CURRENT_STATES:
        raise closed_trial_refusal(trial)
    observation = Observation(patient=patient, trial=trial, observed_at=observed_at, signs=signs, on_oxygen=on_oxygen,
                              late_reason=late_reason.strip(), charted_by=actor, **values)  # fmt: skip
    score = protocol.news2(policy=current_policy(), **news2_values(observation))  # V1
    observation.news2_score, observation.news2_risk = score.score, score.risk
    observation.news2_parameters = score.parameters
    # The patient's due slots and overdue alerts come with the insert (after the trial's lock, which a test dose
    # scheduling them takes too): the record changes neither.
    slots, any_overdue = _OBSERVATION_INSERT.save_reading(observation, _SLOTS_AND_OVERDUE, patient.pk)
    rules = ["S5", "V1"]
    serious = protocol.serious_adverse_events(signs, values["sedation"])
    if trial is not None and serious and trial.state in OPEN_STATES:
        trial.suspend()
        trial.status_reason = "S10: serious adverse event charted: " + ", ".join(serious)
        trial.save()
    rules += raise_sign_alerts(observation)
    raise_early_warning_alert(observation, score)
    _resolve_filled_slots(observation, actor, slots, any_overdue)
    state_changed = trial is not None and trial.state != before_state
    record_event(
        actor=actor,
        action=AuditAction.OBSERVATION_CHARTED,
        at=observed_at,
        patient=patient,
        subject=observation,
        before={"trial_state": before_state} if state_changed else None,
        after={
            **values,
            "signs": signs,
            "on_oxygen": on_oxygen,
            "news2_score": score.score,
            "news2_risk": score.risk,
            **({"late_reason": observation.late_reason} if observation.late_reason else {}),
            **({"trial_state": trial.state} if state_changed else {}),
        },
        rules=rules,
    )
    return observation


def raise_sign_alerts(observation: Observation) -> list[str]:
    """S10, O1, W1: alerts to the ward's neurologists for the signs charted, as the protocol reads them for this
    patient: overdose guidance mentions the reservoir only with a pump in place, and withdrawal-list signs are
    withdrawal only once the intrathecal infusion has started. Returns the rules applied."""
    patient = observation.patient
    signs, sedation = observation.signs, observation.sedation
    # The pump only changes which alert the signs call for: it is looked up when they call for one.
    found = [
        protocol.overdose_signs_alert(signs, sedation, pump_in_place=False)
        and protocol.overdose_signs_alert(signs, sedation, pump_in_place=has_pump_in_place(patient)),
        protocol.withdrawal_signs_alert(signs, infusion_started=False)
        and protocol.withdrawal_signs_alert(
            signs, infusion_started=intrathecal_infusion_started(patient, observation.observed_at)
        ),
    ]
    rules = []
    for signs_alert in filter(None, found):
        message = signs_alert.message
        if signs_alert.meaning == SignsMeaning.SERIOUS_ADVERSE_EVENT and observation.trial_id:
            message += " Screening is suspended pending neurologist review."
        alerts.raise_alert(
            kind=SIGNS_ALERT_KINDS[signs_alert.meaning],
            severity=signs_alert.severity,
            patient=patient,
            rule=signs_alert.rule,
            message=message,
            target_role=Role.NEUROLOGIST,
            subject=observation,
            due_at=observation.observed_at,
        )
        rules.append(signs_alert.rule)
    return rules


def raise_early_warning_alert(observation: Observation, score: protocol.News2) -> None:
    """V1: NEWS2 low-medium risk or above alerts the ward's neurologists (urgent, so escalated when unacknowledged,
    A2), unless an alert raised for the same or a higher risk is still open for the patient."""
    if not protocol.news2_alert_needed(score.risk, []):
        return  # not even with no alert open: none to look up
    open_alerts = Alert.objects.filter(
        patient=observation.patient, kind=AlertKind.EARLY_WARNING, state__in=[Alert.State.OPEN, Alert.State.ESCALATED]
    ).values_list("subject_id", flat=True)
    open_risks = Observation.objects.filter(pk__in=[int(pk) for pk in open_alerts]).values_list("news2_risk", flat=True)
    if not protocol.news2_alert_needed(score.risk, list(open_risks)):
        return
    alerts.raise_alert(
        kind=AlertKind.EARLY_WARNING,
        severity=protocol.Severity.URGENT,
        patient=observation.patient,
        rule="V1",
        message=protocol.news2_alert_message(score),
        target_role=Role.NEUROLOGIST,
        subject=observation,
        due_at=observation.observed_at,
    )


def _unresolved_overdue_alerts() -> QuerySet[Alert]:
    return Alert.objects.unresolved().filter(kind=AlertKind.OBSERVATION_OVERDUE)


def _slots_and_overdue(patient) -> QuerySet:
    pending = DueCheck.objects.filter(
        patient=OuterRef("pk"), kind=CheckKind.OBSERVATION_OVERDUE, state=DueCheck.State.PENDING
    )
    return Patient.objects.filter(pk=patient).values_list(
        ArraySubquery(pending.values(slot=JSONObject(id="id", due_at="payload__slot_due_at"))),
        Exists(_unresolved_overdue_alerts().filter(patient=OuterRef("pk"))),
    )


# Every observation sends it: compiled once (-1 the patient).
_SLOTS_AND_OVERDUE = CompiledRead(_slots_and_overdue, placeholders=(-1,))


def _resolve_filled_slots(observation: Observation, actor, slots: list[dict], any_overdue: bool) -> None:
    """An observation closes the check of the time it was due (so the ward sees the next one), and the overdue
    alert of that time if it was charted late (A1), acknowledged or not: acknowledging is not charting.

    `slots`, the patient's pending slots, and `any_overdue`, whether an overdue alert is unresolved, as
    `_SLOTS_AND_OVERDUE` reads them: charting a patient with neither (no test dose's observation pending, no overdue
    one unresolved) costs no other look-up, and the alerts are locked only when there is one to resolve."""
    policy = current_policy()
    filled = [slot["id"] for slot in slots if protocol.observation_fills_slot(
        observation.observed_at, datetime.fromisoformat(slot["due_at"]), policy)]  # fmt: skip
    if filled:
        alerts.cancel_checks(ids=filled)
    if not any_overdue:
        return
    for alert in _unresolved_overdue_alerts().filter(patient=observation.patient).select_for_update():
        if alert.due_at and protocol.observation_fills_slot(observation.observed_at, alert.due_at, policy):
            alerts.resolve_alerts(subject=alert.source_check, kinds=[AlertKind.OBSERVATION_OVERDUE], actor=actor)
