"""Giving a test dose (S1-S4, S11, P1, V2): the next rung of the ladder, prepared and injected as the protocol says,
24 h after the patient's previous test dose in any trial, after a baseline observation that passes the pre-dose check
(or a neurologist's override)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time, shown
from wardflow.compiled import CompiledInsert, fields_write
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import TrialState

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import ScreeningTrial, TestDose
from ..selectors import (
    earliest_test_dose_at,
    give_dose_refusal,
    in_force,
    predose_check,
    predose_override_refusal,
    predose_refusal,
    trial_doses,
)
from .trials import lock_trial

_DOSE_INSERT = CompiledInsert(TestDose)


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
    override_reason: str = "",
) -> TestDose:
    """Charts the dose, schedules its observations' overdue checks (S5, A1) and closes the "next dose due" ones. A
    refused pre-dose check (V2) goes ahead only with a neurologist's `override_reason`."""
    trial = lock_trial(trial)
    if refusal := give_dose_refusal(actor, trial):
        raise refusal
    if override_reason.strip() and (refusal := predose_override_refusal(actor)):
        raise refusal
    patient = trial.patient
    ensure_clinical_time("administered_at", administered_at, patient)
    doses = in_force(trial_doses(trial))  # D4: a dose entered in error frees its rung
    number = len(doses) + 1
    expected = protocol.ladder_dose_mcg(number, trial.first_dose_mcg)
    # S3, S11: the patient's previous dose may be in an earlier trial (cancelled or not); the trial's lock keeps
    # any other dose of the patient out meanwhile, as a patient has one open trial (S1).
    earliest = earliest_test_dose_at(trial)
    if earliest is not None and administered_at < earliest:
        raise WorkflowConflict(
            f"S3: a test dose is given no earlier than {protocol.TEST_DOSE_SPACING / timedelta(hours=1):g} h after the "
            "patient's previous test dose, in any trial; "
            f"test dose {number} may be given from {shown(earliest)}.",
            rule="S3",
            next_dose_due_at=earliest,
        )
    errors = {}
    if dose_mcg != expected:
        errors["dose_mcg"] = [f"S1: test dose {number} is {expected} mcg, not {dose_mcg} mcg."]
    elif volume_ml != protocol.ladder_volume_ml(expected):
        right = protocol.ladder_volume_ml(expected)
        strength = protocol.TEST_DOSE_CONCENTRATION_MCG_PER_ML
        errors["volume_ml"] = [
            f"S1: {expected} mcg of the {strength} mcg/mL solution is {right} mL, not {volume_ml} mL."
        ]
    if injection_seconds < protocol.MIN_INJECTION_SECONDS:
        minimum = protocol.MIN_INJECTION_SECONDS
        errors["injection_seconds"] = [
            f"S4: inject over at least {minimum} s with barbotage ({injection_seconds} s charted)."
        ]
    if resuscitation_ready is not True:
        errors["resuscitation_ready"] = ["S4: confirm that resuscitation equipment is at hand before the dose."]
    if errors:
        raise InvalidInput(errors, rule="S4" if "dose_mcg" not in errors and "volume_ml" not in errors else "S1")
    predose = predose_check(patient, administered_at)
    overridden = not predose.ok and bool(override_reason.strip())
    if not predose.ok and not overridden:
        raise predose_refusal(predose)
    dose = _DOSE_INSERT.create(
        trial=trial,
        number=number,
        dose_mcg=dose_mcg,
        volume_ml=volume_ml,
        administered_at=administered_at,
        lot=lot,
        route=route,
        injection_seconds=injection_seconds,
        resuscitation_ready=True,
        predose_override_reason=override_reason if overridden else "",
        given_by=actor,
    )
    # A dose just given has no assessment yet (S7): whoever reads the dose need not look one up.
    TestDose.assessment.related.set_cached_value(dose, None)
    trial.start_observing()
    policy = current_policy()
    # The trial's new state, the dose's observation slots and the next-dose check closed: one statement.
    alerts.schedule_checks(
        CheckKind.OBSERVATION_OVERDUE,
        dues=[
            (protocol.observation_overdue_at(due, policy), {"slot_due_at": due.isoformat()})
            for due in protocol.observation_schedule(administered_at, policy)
        ],
        patient=patient,
        subject=dose,
        along=[fields_write(trial, ["state"]), alerts.cancelling(subject=trial, kinds=[CheckKind.NEXT_DOSE_DUE])],
    )
    alerts.resolve_alerts(subject=trial, kinds=[AlertKind.NEXT_TEST_DOSE_DUE], actor=actor)
    rules = ["S1", "S4", "V2"] + (["S2"] if expected == protocol.PEDIATRIC_FIRST_DOSE_MCG else [])
    if earliest is not None:
        rules += ["S3"] if doses else ["S3", "S11"]  # S11: a first dose spaced from an earlier trial's last one
    record_event(
        actor=actor,
        action=AuditAction.TEST_DOSE_GIVEN,
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
            "predose": {
                "baseline_at": predose.baseline_at,
                "news2": predose.news2.as_dict() if predose.news2 else None,
                "respiratory_rate": predose.respiratory_rate,
                "problems": list(predose.problems),
                "overridden": overridden,
            },
        },
        rules=rules,
        reason=override_reason if overridden else "",
    )
    return dose
