"""Opening a screening trial, and the reasoned changes to it: suspend, resume, cancel (S1, S2, S10, S11, P1, P2,
T13)."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from alerts import services as alerts
from alerts.models import Alert
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ward_today
from wardflow.compiled import CompiledRows, LockedRow
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import TrialState

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import ScreeningTrial, TestDose
from ..selectors import (
    cancel_refusal,
    closed_trial_refusal,
    current_trials,
    earliest_test_dose_at,
    open_trial_overrides,
    open_trial_refusal,
    resume_refusal,
    trial_change_refusal,
)

# Every act on a trial starts by locking its row: concurrent acts queue and then see the new state. Its row only:
# the patient and ward come along unlocked (other patients' acts on the ward do not queue behind it). Compiled once.
_TRIAL_LOCK = LockedRow(ScreeningTrial, "patient", "patient__ward")
# Every observation charted without a trial named looks its patient's current trial up this way (-1 the patient).
_CURRENT_TRIAL_LOCK = CompiledRows(
    ScreeningTrial,
    lambda patient: current_trials(patient).select_for_update(of=("self",)).order_by("pk")[:1],
    "patient",
    "patient__ward",
)


def lock_trial(trial: ScreeningTrial) -> ScreeningTrial:
    return _TRIAL_LOCK.get(trial.pk)


def lock_current_trial(patient) -> ScreeningTrial | None:
    """The patient's open or suspended trial, locked, or None. A trial that closed while we waited for the lock no
    longer matches."""
    return _CURRENT_TRIAL_LOCK.first(patient.pk)


def _override_needed(rule: str, age: int) -> str:
    if rule == "P2":
        return (
            f"P2: the patient is {age} years old; intrathecal safety under {protocol.MIN_SCREENING_AGE_YEARS} "
            "is not established. A neurologist may override with a written reason (override_reason)."
        )
    return (
        "S11: this patient's last screening trial ended not a candidate; re-screening needs a neurologist override "
        "with a written reason (override_reason)."
    )


@transaction.atomic
def open_trial(*, actor, patient, first_dose_mcg: Decimal | None = None, reason: str = "", override_reason: str = ""):
    """A neurologist starts screening, unless a pump is in place (T13), a trial is open (S1) or a candidate awaits
    the implant (S11): P2 (under 4) and S11 (after not_candidate) need a reasoned override, S2 (25 mcg start,
    pediatric). The first dose waits 24 h from the patient's latest test dose of any trial (S3)."""
    if refusal := open_trial_refusal(actor, patient):
        raise refusal
    now = timezone.now()
    policy = current_policy()
    age = patient.age_years(ward_today())
    overrides = open_trial_overrides(patient)
    if overrides and not override_reason.strip():
        raise WorkflowConflict(" ".join(_override_needed(rule, age) for rule in overrides), rule=overrides[0])
    rules = ["S1", *overrides]
    band = protocol.age_band(patient.date_of_birth, ward_today(), policy)
    first_dose = protocol.TEST_DOSE_LADDER_MCG[0] if first_dose_mcg is None else first_dose_mcg
    if first_dose not in protocol.first_test_dose_choices(band):
        if first_dose == protocol.PEDIATRIC_FIRST_DOSE_MCG:
            raise WorkflowConflict("S2: a 25 mcg first test dose is for pediatric patients only.", rule="S2")
        raise InvalidInput({"first_dose_mcg": [f"S1: the first test dose is {protocol.TEST_DOSE_LADDER_MCG[0]} mcg."]})
    if first_dose == protocol.PEDIATRIC_FIRST_DOSE_MCG:
        if not reason.strip():
            raise InvalidInput({"reason": ["S2: give the reason for a 25 mcg first test dose."]})
        rules.append("S2")
    try:
        with transaction.atomic():
            trial = ScreeningTrial.objects.create(
                patient=patient,
                first_dose_mcg=first_dose,
                first_dose_reason=reason if first_dose == protocol.PEDIATRIC_FIRST_DOSE_MCG else "",
                age_override_reason=override_reason if "P2" in overrides else "",
                opened_by=actor,
                opened_at=now,
            )
    except IntegrityError as exc:  # S1: a concurrent request opened one first
        raise WorkflowConflict("This patient already has an open screening trial.", rule="S1") from exc
    # S3: after an earlier trial's dose (S11) the first one may not be due yet; the ward is told when it is.
    first_due = earliest_test_dose_at(trial)
    if first_due is not None and first_due > now:
        alerts.schedule_check(CheckKind.NEXT_DOSE_DUE, due_at=first_due, patient=patient, subject=trial,
                              payload={"number": 1})  # fmt: skip
    record_event(
        actor=actor,
        action=AuditAction.TRIAL_OPENED,
        at=now,
        patient=patient,
        subject=trial,
        after={"state": trial.state, "first_dose_mcg": first_dose, "age_years": age, "age_band": band},
        rules=rules,
        reason="; ".join(r for r in (override_reason, reason) if r.strip()),
    )
    return trial


def _change_trial_state(*, actor, trial: ScreeningTrial, transition: str, action: AuditAction, reason: str,
                        rules: list[str], conflict) -> ScreeningTrial:  # fmt: skip
    """A neurologist's reasoned state change (suspend, resume, cancel): transition, reason, audit event."""
    if rules != ["P1"] and (refusal := trial_change_refusal(actor, rules[0])):
        raise refusal  # P1: charting an infection suspends the trial, whoever charts it
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
    return _change_trial_state(actor=actor, trial=lock_trial(trial), transition="suspend",
                               action=AuditAction.TRIAL_SUSPENDED, reason=reason, rules=[rule],
                               conflict=closed_trial_refusal)  # fmt: skip


@transaction.atomic
def resume_trial(*, actor, trial: ScreeningTrial, reason: str) -> ScreeningTrial:
    """A neurologist resumes a suspended trial after review; never while an infection is charted (P1)."""
    trial = lock_trial(trial)
    if refusal := resume_refusal(actor, trial):
        raise refusal
    return _change_trial_state(actor=actor, trial=trial, transition="resume", action=AuditAction.TRIAL_RESUMED,
                               reason=reason, rules=["S10"],
                               conflict=lambda locked: resume_refusal(actor, locked))  # fmt: skip


@transaction.atomic
def cancel_trial(*, actor, trial: ScreeningTrial, reason: str) -> ScreeningTrial:
    """Ends the trial without a candidacy decision, closing its and its doses' due checks."""
    trial = lock_trial(trial)
    if refusal := cancel_refusal(actor, trial):
        raise refusal
    trial = _change_trial_state(actor=actor, trial=trial, transition="cancel",
                                action=AuditAction.TRIAL_CANCELLED, reason=reason, rules=["S1"],
                                conflict=closed_trial_refusal)  # fmt: skip
    close_trial_schedule(actor=actor, trial=trial)
    return trial


def close_trial_schedule(*, actor, trial: ScreeningTrial) -> None:
    """A trial with nothing more due (cancelled, or its patient implanted, T1): its pending observation and next-dose
    checks are cancelled and their alerts (A1 observation overdue, S3 next dose) resolved, each resolution audited
    (A2), so that no overdue observation stays on the board. Alerts about what was charted (S10, O1, W1, V1) stay for
    their review. Part of the caller's transaction."""
    doses = list(trial.doses.all())
    alerts.cancel_checks(subject=trial)
    for dose in doses:
        alerts.cancel_checks(subject=dose)
    overdue = Alert.objects.unresolved().filter(
        kind=AlertKind.OBSERVATION_OVERDUE,
        source_check__subject_type=TestDose._meta.label_lower,
        source_check__subject_id__in=[str(dose.pk) for dose in doses],
    )
    for check in {alert.source_check for alert in overdue.select_related("source_check")}:
        alerts.resolve_alerts(subject=check, kinds=[AlertKind.OBSERVATION_OVERDUE], actor=actor)
    alerts.resolve_alerts(subject=trial, kinds=[AlertKind.NEXT_TEST_DOSE_DUE], actor=actor)
