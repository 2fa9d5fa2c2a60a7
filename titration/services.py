"""Pump, dose-change and refill acts (T1-T12, R1-R5). Each is one transaction: lock the pump, check the protocol,
change state, write one audit event (D1), and reschedule the due-checks that depend on it."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from alerts import services as alerts
from screening.models import Assessment, ScreeningTrial
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_not_future
from wardflow.errors import (
    InvalidInput,
    OutsideAllowedBand,
    SignatureRejected,
    WorkflowConflict,
)
from wardflow.policy import current_policy
from wardflow.protocol import DoseChangeKind, Phase, Response, Segment, Severity, TrialState
from wardflow.staff.models import Role
from wardflow.staff.roles import require_role

from .models import DoseChange, Pump, Refill

REFILL_REMINDER = "titration.refill_reminder"
REFILL_OVERDUE = "titration.refill_overdue"
TITRATION_STEP_DUE = "titration.step_due"
REFILL_ALERT_KINDS = ("refill_due", "refill_overdue")
PENDING = (DoseChange.State.PROPOSED, DoseChange.State.APPROVED)
INCREASING_KINDS = (DoseChangeKind.TITRATION, DoseChangeKind.REFILL_ADJUSTMENT)
DECREASING_KINDS = (DoseChangeKind.ADVERSE_EFFECT_REDUCTION, DoseChangeKind.DISCONTINUATION)


def _locked_pump(pump: Pump) -> Pump:
    # Dose changes and refills of one pump queue on its row: each sees the program the previous one left.
    return (
        Pump.objects.select_for_update(of=("self",))
        .select_related("patient", "patient__ward", "active_change")
        .get(pk=pump.pk)
    )


def parse_segments(segments: list[dict]) -> tuple[Segment, ...]:
    """T7 segments from their API form [{"start": "HH:MM", "percent": "120"}]."""
    if not segments:
        return protocol.flat_program()
    parsed = []
    for segment in segments:
        hours, minutes = segment["start"].split(":")
        parsed.append(Segment(int(hours) * 60 + int(minutes), Decimal(str(segment["percent"]))))
    return tuple(parsed)


def program_periods(pump: Pump) -> list[protocol.ProgramPeriod]:
    """R2: the programs that have been in force, each from the moment it became active."""
    changes = pump.dose_changes.filter(programmed_at__isnull=False).order_by("programmed_at")
    return [protocol.ProgramPeriod(c.programmed_at, c.new_daily_dose_mcg) for c in changes]


def estimated_volume(pump: Pump, moment: datetime, periods: list[protocol.ProgramPeriod] | None = None) -> Decimal:
    periods = program_periods(pump) if periods is None else periods
    return protocol.volume_at(moment, pump.filled_at, pump.volume_after_fill_ml, pump.concentration_mcg_per_ml, periods)


def _reschedule_refill(pump: Pump, moment: datetime) -> None:
    """R2-R4: recompute alarm and refill due from `moment` at the program now in force, and replace the pending
    reminders, so that no stale or duplicate reminder survives a dose change or a refill."""
    alerts.cancel_checks(subject=pump, kinds=[REFILL_REMINDER, REFILL_OVERDUE])
    active = pump.active_change
    if active is None or active.new_daily_dose_mcg == 0:
        pump.alarm_at = pump.refill_due_at = None
        pump.save(update_fields=["alarm_at", "refill_due_at"])
        return
    policy = current_policy()
    volume = estimated_volume(pump, moment)
    pump.alarm_at = protocol.alarm_time(
        moment, volume, pump.alarm_ml, pump.concentration_mcg_per_ml, active.new_daily_dose_mcg
    )
    pump.refill_due_at = protocol.refill_due(pump.alarm_at, policy)
    pump.save(update_fields=["alarm_at", "refill_due_at"])
    for days in protocol.refill_reminder_days(pump.patient.high_withdrawal_risk, policy):
        alerts.schedule_check(
            REFILL_REMINDER,
            due_at=pump.refill_due_at - timedelta(days=days),
            patient=pump.patient,
            subject=pump,
            payload={"days_before": days},
        )
    alerts.schedule_check(REFILL_OVERDUE, due_at=pump.refill_due_at, patient=pump.patient, subject=pump)


def _fill_problem(volume_ml: Decimal, alarm_ml: Decimal, reservoir_ml: Decimal) -> str | None:
    """R1: a fill lies above the alarm volume and within the reservoir."""
    if alarm_ml < volume_ml <= reservoir_ml:
        return None
    return f"R1: fill between the alarm volume ({alarm_ml} mL) and the reservoir ({reservoir_ml} mL)."


def _range_findings(pump: Pump, daily_mcg: Decimal) -> protocol.RangeFinding:
    patient = pump.patient
    return protocol.maintenance_range(
        daily_mcg, protocol.SpasticityOrigin(patient.spasticity_origin), patient.age_years(timezone.localdate())
    )


@transaction.atomic
def implant_pump(
    *,
    actor,
    patient,
    screening_trial: ScreeningTrial,
    implanted_at: datetime,
    model: str,
    serial: str,
    reservoir_ml: Decimal,
    alarm_ml: Decimal,
    concentration_mcg_per_ml: Decimal,
    initial_volume_ml: Decimal,
    dilution_note: str = "",
) -> Pump:
    """T1: only a candidate trial leads to an implant; its positive response sets the initial daily dose, proposed
    for signature (T9)."""
    require_role(actor, Role.NEUROLOGIST, rule="T1", doing="record an implant")
    trial = ScreeningTrial.objects.select_for_update().get(pk=screening_trial.pk)
    if trial.patient_id != patient.pk:
        raise InvalidInput({"screening_trial": ["This screening trial belongs to another patient."]})
    if trial.state != TrialState.CANDIDATE:
        raise WorkflowConflict(
            f"T1: only a candidate screening trial leads to an implant (this one is {trial.state}).", rule="T1"
        )
    if Pump.objects.filter(screening_trial=trial).exists():
        raise WorkflowConflict("A pump was already implanted after this screening trial.", rule="T1")
    ensure_not_future("implanted_at", implanted_at)
    errors = {}
    if protocol.needs_dilution_record(concentration_mcg_per_ml) and not dilution_note.strip():
        errors["dilution_note"] = [
            f"T2: {concentration_mcg_per_ml} mcg/mL is not a commercial strength (50, 500, 2000); record the dilution "
            "with preservative-free 0.9% sodium chloride."
        ]
    if alarm_ml >= reservoir_ml:
        errors["alarm_ml"] = ["R1: the alarm volume must be below the reservoir volume."]
    if (problem := _fill_problem(initial_volume_ml, alarm_ml, reservoir_ml)) and "alarm_ml" not in errors:
        errors["initial_volume_ml"] = [problem]
    if errors:
        raise InvalidInput(errors)
    positive = Assessment.objects.select_related("test_dose").get(test_dose__trial=trial, response=Response.POSITIVE)
    initial = protocol.initial_daily_dose(positive.test_dose.dose_mcg, positive.duration_hours)
    pump = Pump.objects.create(
        patient=patient,
        screening_trial=trial,
        implanted_at=implanted_at,
        model=model,
        serial=serial,
        reservoir_ml=reservoir_ml,
        alarm_ml=alarm_ml,
        concentration_mcg_per_ml=concentration_mcg_per_ml,
        dilution_note=dilution_note,
        filled_at=implanted_at,
        volume_after_fill_ml=initial_volume_ml,
        implanted_by=actor,
    )
    findings = _range_findings(pump, initial)
    change = DoseChange.objects.create(
        pump=pump,
        kind=DoseChangeKind.INITIAL,
        new_daily_dose_mcg=initial,
        proposed_by=actor,
        proposed_at=timezone.now(),
        earliest_at=implanted_at,
        notices=list(findings.notices),
        warnings=list(findings.warnings),
        reason=f"T1: {positive.test_dose.dose_mcg} mcg test dose, response {positive.duration_hours} h",
    )
    record_event(
        actor=actor,
        action="pump.implanted",
        at=implanted_at,
        patient=patient,
        subject=pump,
        after={
            "serial": serial,
            "model": model,
            "reservoir_ml": reservoir_ml,
            "alarm_ml": alarm_ml,
            "concentration_mcg_per_ml": concentration_mcg_per_ml,
            "initial_volume_ml": initial_volume_ml,
            "initial_dose_change": change.pk,
            "initial_daily_dose_mcg": initial,
            "positive_test_dose_mcg": positive.test_dose.dose_mcg,
            "response_hours": positive.duration_hours,
        },
        rules=["T1", "T2", "R1"] + (["T8"] if findings.notices or findings.warnings else []),
    )
    return pump


def _check_direction(kind: DoseChangeKind, active: Decimal, new: Decimal, serious_adverse_reaction: bool) -> None:
    if kind in INCREASING_KINDS and new <= active:
        raise InvalidInput(
            {
                "new_daily_dose_mcg": [
                    f"{'T3' if kind == DoseChangeKind.TITRATION else 'T5'}: a {kind.replace('_', ' ')} raises the "
                    f"active {active} mcg/day; to lower it use adverse_effect_reduction (T6) or discontinuation (T11)."
                ]
            }
        )
    if kind in DECREASING_KINDS and new >= active:
        raise InvalidInput({"new_daily_dose_mcg": [f"{kind.replace('_', ' ')} lowers the active {active} mcg/day."]})
    if kind == DoseChangeKind.DISCONTINUATION and new == 0 and not serious_adverse_reaction:
        raise WorkflowConflict(
            "T11: discontinue by tapering; stopping at once is only for a serious adverse reaction "
            "(set serious_adverse_reaction and document the reason).",
            rule="T11",
        )


def _reject(change: DoseChange, pump: Pump, actor, reason: str, *, rule: str, at: datetime) -> None:
    before = change.state
    change.reject()
    change.rejected_by, change.rejected_at, change.rejection_reason = actor, at, reason
    change.save()
    record_event(actor=actor, action="dose_change.rejected", patient=pump.patient, subject=change,
                 before={"state": before}, after={"state": change.state}, rules=[rule], reason=reason)  # fmt: skip


def _supersede_pending_increases(pump: Pump, actor, now: datetime) -> list[int]:
    """T6: a reduction for adverse effects rejects any increase still waiting to be programmed."""
    superseded = []
    for pending in pump.dose_changes.select_for_update().filter(state__in=PENDING):
        _reject(pending, pump, actor, "T6: superseded by an adverse-effect reduction.", rule="T6", at=now)
        superseded.append(pending.pk)
    return superseded


@transaction.atomic
def propose_dose_change(
    *,
    actor,
    pump: Pump,
    kind: DoseChangeKind,
    new_daily_dose_mcg: Decimal,
    reason: str = "",
    segments: list[dict] | None = None,
    override_reason: str = "",
    serious_adverse_reaction: bool = False,
) -> DoseChange:
    """T3-T7, T10, T11: propose a new daily dose against the active one; a step beyond its band needs a
    neurologist's written override (T4)."""
    require_role(actor, Role.NURSE, Role.NEUROLOGIST, rule="T9", doing="propose a dose change")
    pump = _locked_pump(pump)
    now = timezone.now()
    policy = current_policy()
    if kind == DoseChangeKind.INITIAL:
        raise WorkflowConflict("T1: the initial dose is set by the implant.", rule="T1")
    active = pump.active_change
    if active is None:
        raise WorkflowConflict("T9: the initial dose has not been programmed yet.", rule="T9")
    if kind == DoseChangeKind.TITRATION and pump.phase != Phase.TITRATION:
        raise WorkflowConflict(
            "T3: titration steps belong to the titration phase; at a refill visit use a refill adjustment (T5).",
            rule="T3",
        )
    if kind == DoseChangeKind.REFILL_ADJUSTMENT and pump.phase != Phase.MAINTENANCE:
        raise WorkflowConflict("T5: refill adjustments belong to the maintenance phase.", rule="T5")
    program = parse_segments(segments or [])
    if problems := protocol.validate_segments(program):
        raise InvalidInput({"segments": problems}, rule="T7")
    if override_reason.strip():
        require_role(actor, Role.NEUROLOGIST, rule="T4", doing="override the allowed band")
    current = active.new_daily_dose_mcg
    _check_direction(kind, current, new_daily_dose_mcg, serious_adverse_reaction)
    if pump.dose_changes.filter(state__in=PENDING).exists() and kind != DoseChangeKind.ADVERSE_EFFECT_REDUCTION:
        raise WorkflowConflict(
            "T9: another dose change is waiting for approval or programming; reject it first.", rule="T9"
        )
    patient = pump.patient
    age_band = protocol.age_band(patient.date_of_birth, timezone.localdate(), policy)
    band = protocol.allowed_band(kind, protocol.SpasticityOrigin(patient.spasticity_origin), age_band)
    rules, notices, overridden = [], [], False
    if band is not None:
        check = protocol.check_band(current, new_daily_dose_mcg, band)
        rules.append(band.rule)
        notices += check.notices
        if check.beyond_band:
            if not override_reason.strip():
                raise OutsideAllowedBand(
                    f"{band.rule}: {check.percent.quantize(Decimal('0.1'))} % is beyond the allowed "
                    f"{band.min_percent} to {band.max_percent} % of the active {current} mcg/day. A neurologist may "
                    "override with a written reason (override_reason).",
                    rule="T4" if band.rule == "T3" else band.rule,
                    allowed_max_mcg=check.allowed_max_mcg.quantize(Decimal("0.01")),
                )
            overridden = True
            rules.append("T4")
    if kind == DoseChangeKind.DISCONTINUATION:
        rules.append("T11")
    if segments:
        rules.append("T7")
    findings = _range_findings(pump, new_daily_dose_mcg)
    if findings.notices or findings.warnings:
        rules.append("T8")
    superseded = (
        _supersede_pending_increases(pump, actor, now) if kind == DoseChangeKind.ADVERSE_EFFECT_REDUCTION else []
    )
    is_increase = new_daily_dose_mcg > current
    change = DoseChange.objects.create(
        pump=pump,
        kind=kind,
        new_daily_dose_mcg=new_daily_dose_mcg,
        previous_daily_dose_mcg=current,
        percent_change=protocol.percent_change(current, new_daily_dose_mcg),
        band_min_percent=band.min_percent if band else None,
        band_max_percent=band.max_percent if band else None,
        segments=segments or [],
        notices=notices + list(findings.notices),
        warnings=list(findings.warnings),
        reason=reason,
        override_reason=override_reason if overridden else "",
        serious_adverse_reaction=serious_adverse_reaction,
        proposed_by=actor,
        proposed_at=now,
        earliest_at=protocol.earliest_programming(active.programmed_at, now, is_increase, policy),
    )
    if overridden and protocol.sudden_increase(True, [], now, policy):
        _raise_sudden_increase_advisory(pump, change, now)
        rules.append("T10")
    record_event(
        actor=actor,
        action="dose_change.overridden" if overridden else "dose_change.proposed",
        patient=patient,
        subject=change,
        before={"daily_dose_mcg": current},
        after={
            "kind": kind,
            "new_daily_dose_mcg": new_daily_dose_mcg,
            "percent_change": change.percent_change,
            "state": change.state,
            "segments": change.segments,
            "notices": change.notices,
            "warnings": change.warnings,
            "superseded": superseded,
        },
        rules=rules,
        reason="; ".join(r for r in (reason, override_reason if overridden else "") if r),
    )
    return change


def _raise_sudden_increase_advisory(pump: Pump, change: DoseChange, now: datetime) -> None:
    alerts.raise_alert(
        kind="sudden_increase",
        severity=Severity.WARNING,
        patient=pump.patient,
        rule="T10",
        message="T10: the dose requirement is rising quickly; check pump function and catheter "
        "patency (kink, dislodgement).",
        target_role=Role.NEUROLOGIST,
        subject=change,
        at=now,
    )


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _locked_change(change: DoseChange) -> tuple[Pump, DoseChange]:
    pump = _locked_pump(change.pump)
    return pump, DoseChange.objects.select_for_update().get(pk=change.pk)


@transaction.atomic
def approve_dose_change(*, actor, change: DoseChange, password: str, acknowledge_warnings: bool = False) -> DoseChange:
    """T9: a neurologist signs by re-entering their password; the signature's meaning is recorded with it."""
    require_role(actor, Role.NEUROLOGIST, rule="T9", doing="sign a dose change")
    if authenticate(username=actor.username, password=password) is None:
        raise SignatureRejected("T9: the password does not match; the dose change was not signed.", rule="T9")
    pump, change = _locked_change(change)
    if change.warnings and not acknowledge_warnings:
        raise WorkflowConflict("T8: acknowledge the range warnings to sign: " + " ".join(change.warnings), rule="T8")
    try:
        change.approve()
    except TransitionNotAllowed as exc:
        raise WorkflowConflict(
            f"T9: only a proposed dose change can be approved (this one is {change.state}).", rule="T9"
        ) from exc
    now = timezone.now()
    change.approved_by, change.approved_at = actor, now
    change.warnings_acknowledged = bool(change.warnings)
    change.signature_meaning = (
        f"Approved by {actor.display_name()} at {timezone.localtime(now):%Y-%m-%d %H:%M %Z}: "
        f"{change.kind.replace('_', ' ')} to {change.new_daily_dose_mcg} mcg/day"
    )
    change.save()
    rules = ["T9"] + (["T8"] if change.warnings else [])
    if pump.phase == Phase.MAINTENANCE and change.is_increase:
        approved_increases = [
            c.approved_at
            for c in pump.dose_changes.filter(approved_at__isnull=False)
            if c.is_increase and c.state != DoseChange.State.REJECTED
        ]
        if protocol.sudden_increase(False, approved_increases, now, current_policy()):
            _raise_sudden_increase_advisory(pump, change, now)
            rules.append("T10")
    record_event(
        actor=actor,
        action="dose_change.approved",
        at=now,
        patient=pump.patient,
        subject=change,
        before={"state": DoseChange.State.PROPOSED},
        after={
            "state": change.state,
            "signature_meaning": change.signature_meaning,
            "warnings_acknowledged": change.warnings_acknowledged,
        },
        rules=rules,
    )
    return change


@transaction.atomic
def reject_dose_change(*, actor, change: DoseChange, reason: str) -> DoseChange:
    require_role(actor, Role.NEUROLOGIST, rule="T9", doing="reject a dose change")
    if not reason.strip():
        raise InvalidInput({"reason": ["Give the reason for rejecting the dose change."]})
    pump, change = _locked_change(change)
    try:
        _reject(change, pump, actor, reason, rule="T9", at=timezone.now())
    except TransitionNotAllowed as exc:
        raise WorkflowConflict(
            f"T9: this dose change is {change.state} and can no longer be rejected.", rule="T9"
        ) from exc
    return change


def confirm_programming(
    *, actor, change: DoseChange, programmed_at: datetime, daily_dose_mcg: Decimal, concentration_mcg_per_ml: Decimal
) -> DoseChange:
    """T9/T12: the nurse confirms the pump was programmed, re-entering what the pump reads back without seeing the
    approved values. A mismatch is refused, changes nothing, and is itself audited."""
    require_role(actor, Role.NURSE, rule="T9", doing="confirm the pump programming")
    mismatch = _confirm_programming(
        actor=actor,
        change=change,
        programmed_at=programmed_at,
        daily_dose_mcg=daily_dose_mcg,
        concentration_mcg_per_ml=concentration_mcg_per_ml,
    )
    if mismatch is not None:
        raise mismatch
    return DoseChange.objects.get(pk=change.pk)


@transaction.atomic
def _confirm_programming(*, actor, change, programmed_at, daily_dose_mcg, concentration_mcg_per_ml):
    pump, change = _locked_change(change)
    ensure_not_future("programmed_at", programmed_at)
    if change.state != DoseChange.State.APPROVED:
        raise WorkflowConflict(
            f"T9: only an approved dose change can be programmed (this one is {change.state}).", rule="T9"
        )
    # Charted times have minute precision: programming within the minute of the signature is after it.
    if programmed_at < _minute(change.approved_at):
        raise WorkflowConflict("T3: the programming time is before the approval.", rule="T3")
    if programmed_at < _minute(change.earliest_at):
        why = "24 h after the previous change became active" if change.is_increase else "the implant"
        raise WorkflowConflict(
            f"T3: this change may be programmed from {timezone.localtime(change.earliest_at):%Y-%m-%d %H:%M} ({why}).",
            rule="T3",
            earliest_at=change.earliest_at,
        )
    if daily_dose_mcg != change.new_daily_dose_mcg or concentration_mcg_per_ml != pump.concentration_mcg_per_ml:
        record_event(
            actor=actor,
            action="dose_change.programming_mismatch",
            at=programmed_at,
            patient=pump.patient,
            subject=change,
            after={
                "entered_daily_dose_mcg": daily_dose_mcg,
                "entered_concentration_mcg_per_ml": concentration_mcg_per_ml,
            },
            rules=["T12"],
        )
        return WorkflowConflict(
            "T12: the values read back from the pump do not match the approved program. Check "
            "the pump (mcg/day, not mcg/hour; the concentration) and enter them again.",
            rule="T12",
        )
    previous = pump.active_change
    if previous is not None:
        previous = DoseChange.objects.select_for_update().get(pk=previous.pk)
        previous.supersede()
        previous.superseded_at = programmed_at
        previous.save()
    change.activate()
    change.programmed_by, change.programmed_at = actor, programmed_at
    change.save()
    pump.active_change = change
    pump.save(update_fields=["active_change"])
    _reschedule_refill(pump, programmed_at)
    alerts.cancel_checks(subject=pump, kinds=[TITRATION_STEP_DUE])
    if pump.phase == Phase.TITRATION and change.kind in (DoseChangeKind.INITIAL, DoseChangeKind.TITRATION):
        alerts.schedule_check(
            TITRATION_STEP_DUE,
            due_at=protocol.next_step_at(programmed_at, current_policy()),
            patient=pump.patient,
            subject=pump,
            payload={"after_change": change.pk},
        )
    record_event(
        actor=actor,
        action="dose_change.programmed",
        at=programmed_at,
        patient=pump.patient,
        subject=change,
        before={
            "daily_dose_mcg": previous.new_daily_dose_mcg if previous else None,
            "state": DoseChange.State.APPROVED,
        },
        after={"daily_dose_mcg": change.new_daily_dose_mcg, "state": change.state, "refill_due_at": pump.refill_due_at},
        rules=["T9", "T12", "T3"],
    )
    return None


@transaction.atomic
def record_refill(
    *,
    actor,
    pump: Pump,
    refilled_at: datetime,
    volume_removed_ml: Decimal,
    volume_added_ml: Decimal,
    concentration_mcg_per_ml: Decimal,
    lot: str,
) -> Refill:
    """R5: record the refill; the residual found is checked against the estimate (advisory beyond 2 mL); the
    reservoir estimate, alarm and refill due restart from this fill (R2) and the reminders are replaced (R3/R4)."""
    pump = _locked_pump(pump)
    ensure_not_future("refilled_at", refilled_at)
    if refilled_at < pump.filled_at:
        raise InvalidInput({"refilled_at": ["A refill cannot precede the previous fill."]})
    if problem := _fill_problem(volume_added_ml, pump.alarm_ml, pump.reservoir_ml):
        raise InvalidInput({"volume_added_ml": [problem]})
    if concentration_mcg_per_ml != pump.concentration_mcg_per_ml:
        raise WorkflowConflict(
            "T2: a different strength needs a new program; refill with the programmed "
            f"{pump.concentration_mcg_per_ml} mcg/mL.",
            rule="T2",
        )
    expected = estimated_volume(pump, refilled_at)
    refill = Refill.objects.create(
        pump=pump,
        refilled_at=refilled_at,
        volume_removed_ml=volume_removed_ml,
        volume_added_ml=volume_added_ml,
        concentration_mcg_per_ml=concentration_mcg_per_ml,
        lot=lot,
        expected_residual_ml=expected,
        refilled_by=actor,
    )
    before = {"refill_due_at": pump.refill_due_at, "alarm_at": pump.alarm_at}
    # R2: the estimate restarts from the new fill, at the program in force.
    pump.filled_at, pump.volume_after_fill_ml = refilled_at, volume_added_ml
    pump.save(update_fields=["filled_at", "volume_after_fill_ml"])
    _reschedule_refill(pump, refilled_at)
    alerts.resolve_alerts(patient=pump.patient, kinds=REFILL_ALERT_KINDS, actor=actor, at=refilled_at)
    rules = ["R1", "R2", "R5"]
    gap = protocol.residual_discrepancy(expected, volume_removed_ml, current_policy())
    if gap is not None:
        alerts.raise_alert(
            kind="residual_discrepancy",
            severity=Severity.WARNING,
            patient=pump.patient,
            rule="R5",
            message=f"R5: {volume_removed_ml} mL found in the reservoir against {expected.quantize(Decimal('0.1'))} "
            f"mL expected ({gap.quantize(Decimal('0.1'))} mL apart): possible pump malfunction or dosing error.",
            target_role=Role.NEUROLOGIST,
            subject=refill,
            at=refilled_at,
        )
    record_event(
        actor=actor,
        action="refill.recorded",
        at=refilled_at,
        patient=pump.patient,
        subject=refill,
        before=before,
        after={
            "volume_removed_ml": volume_removed_ml,
            "volume_added_ml": volume_added_ml,
            "expected_residual_ml": expected,
            "lot": lot,
            "refill_due_at": pump.refill_due_at,
            "alarm_at": pump.alarm_at,
        },
        rules=rules,
    )
    return refill


@transaction.atomic
def set_phase(*, actor, pump: Pump, phase: Phase, reason: str) -> Pump:
    """A neurologist ends titration (maintenance: refill adjustments, T5) or returns to it."""
    require_role(actor, Role.NEUROLOGIST, rule="T5", doing="change the pump's phase")
    if not reason.strip():
        raise InvalidInput({"reason": ["Give the reason for changing the phase."]})
    pump = _locked_pump(pump)
    before = pump.phase
    if before == phase:
        raise WorkflowConflict(f"The pump is already in the {phase} phase.", rule="T5")
    pump.phase = phase
    pump.save(update_fields=["phase"])
    if phase == Phase.MAINTENANCE:
        alerts.cancel_checks(subject=pump, kinds=[TITRATION_STEP_DUE])
    record_event(
        actor=actor,
        action="pump.phase_changed",
        patient=pump.patient,
        subject=pump,
        before={"phase": before},
        after={"phase": phase},
        rules=["T3", "T5"],
        reason=reason,
    )
    return pump


@alerts.check_handler(REFILL_REMINDER)
def _refill_reminder(check, now):
    """R3/R4: refill reminders ahead of the due date."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    days = check.payload["days_before"]
    severity, rule = protocol.refill_reminder_level(days, current_policy())
    alerts.raise_alert(
        kind="refill_due",
        severity=severity,
        patient=pump.patient,
        rule=rule,
        message=f"{rule}: pump refill due in {days} day(s), on {timezone.localtime(pump.refill_due_at):%Y-%m-%d}.",
        target_role=Role.NURSE,
        subject=check,
        due_at=pump.refill_due_at,
        source_check=check,
        at=now,
    )


@alerts.check_handler(REFILL_OVERDUE)
def _refill_overdue(check, now):
    """R3: overdue from the due date, repeating daily until a refill is charted; R4: high withdrawal risk goes
    straight to the ward's neurologists as urgent."""
    pump = Pump.objects.select_related("patient").get(pk=check.subject_id)
    high_risk = pump.patient.high_withdrawal_risk
    alerts.raise_alert(
        kind="refill_overdue",
        severity=Severity.URGENT if high_risk else Severity.WARNING,
        patient=pump.patient,
        rule="R4" if high_risk else "R3",
        message=f"{'R4' if high_risk else 'R3'}: pump refill overdue since "
        f"{timezone.localtime(pump.refill_due_at):%Y-%m-%d %H:%M}; abrupt withdrawal risk (W1).",
        target_role=Role.NEUROLOGIST if high_risk else Role.NURSE,
        subject=check,
        due_at=pump.refill_due_at,
        source_check=check,
        at=now,
    )
    alerts.schedule_check(REFILL_OVERDUE, due_at=check.due_at + timedelta(days=1), patient=pump.patient, subject=pump)


@alerts.check_handler(TITRATION_STEP_DUE)
def _titration_step_due(check, now):
    """T3: the next titration step may be programmed (24 h after the last one became active)."""
    pump = Pump.objects.select_related("patient", "active_change").get(pk=check.subject_id)
    if pump.phase != Phase.TITRATION or pump.active_change_id != check.payload["after_change"]:
        return
    alerts.raise_alert(
        kind="titration_step_due",
        severity=Severity.INFO,
        patient=pump.patient,
        rule="T3",
        message=f"T3: 24 h since {pump.active_change.new_daily_dose_mcg} mcg/day became active; "
        "the next titration step may be programmed.",
        target_role=Role.NEUROLOGIST,
        subject=check,
        source_check=check,
        at=now,
    )
