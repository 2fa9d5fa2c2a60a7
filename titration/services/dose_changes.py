"""Dose changes from proposal to signature: proposed against the program in force (T3-T8, T11), superseded by a
reduction (T6), signed or rejected by a neurologist (T9), with the sudden-increase advisory (T10)."""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ward_today
from wardflow.errors import InvalidInput, OutsideAllowedBand, SignatureRejected, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import DoseChangeKind, Phase, Severity
from wardflow.staff.models import Role
from wardflow.staff.roles import require_role

from ..kinds import AlertKind, AuditAction
from ..models import DoseChange, Pump
from ..selectors import approval_refusal, band_override_refusal, parse_segments, proposal_refusal, range_findings
from .pumps import locked_change, locked_pump

PENDING = (DoseChange.State.PROPOSED, DoseChange.State.APPROVED)
INCREASING_KINDS = (DoseChangeKind.TITRATION, DoseChangeKind.REFILL_ADJUSTMENT)
DECREASING_KINDS = (DoseChangeKind.ADVERSE_EFFECT_REDUCTION, DoseChangeKind.DISCONTINUATION)


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
    record_event(actor=actor, action=AuditAction.DOSE_CHANGE_REJECTED, patient=pump.patient, subject=change,
                 before={"state": before}, after={"state": change.state}, rules=[rule], reason=reason)  # fmt: skip


def _supersede_pending_increases(pump: Pump, actor, now: datetime) -> list[int]:
    """T6: a reduction for adverse effects rejects any increase still waiting to be programmed."""
    superseded = []
    for pending in pump.dose_changes.select_for_update().filter(state__in=PENDING):
        _reject(pending, pump, actor, "T6: superseded by an adverse-effect reduction.", rule="T6", at=now)
        superseded.append(pending.pk)
    return superseded


def _raise_sudden_increase_advisory(pump: Pump, change: DoseChange, now: datetime) -> None:
    alerts.raise_alert(
        kind=AlertKind.SUDDEN_INCREASE,
        severity=Severity.WARNING,
        patient=pump.patient,
        rule="T10",
        message="T10: the dose requirement is rising quickly; check pump function and catheter "
        "patency (kink, dislodgement).",
        target_role=Role.NEUROLOGIST,
        subject=change,
        at=now,
    )


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
    if refusal := proposal_refusal(actor):  # the role before any record is read; the pump's program under the lock
        raise refusal
    pump = locked_pump(pump)
    now = timezone.now()
    policy = current_policy()
    if kind == DoseChangeKind.INITIAL:
        raise WorkflowConflict("T1: the initial dose is set by the implant.", rule="T1")
    if refusal := proposal_refusal(actor, pump):
        raise refusal
    active = pump.active_change
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
    if override_reason.strip() and (refusal := band_override_refusal(actor)):
        raise refusal
    current = active.new_daily_dose_mcg
    _check_direction(kind, current, new_daily_dose_mcg, serious_adverse_reaction)
    if pump.dose_changes.filter(state__in=PENDING).exists() and kind != DoseChangeKind.ADVERSE_EFFECT_REDUCTION:
        raise WorkflowConflict(
            "T9: another dose change is waiting for approval or programming; reject it first.", rule="T9"
        )
    patient = pump.patient
    age_band = protocol.age_band(patient.date_of_birth, ward_today(), policy)
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
    findings = range_findings(pump, new_daily_dose_mcg)
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
        action=AuditAction.DOSE_CHANGE_OVERRIDDEN if overridden else AuditAction.DOSE_CHANGE_PROPOSED,
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


@transaction.atomic
def approve_dose_change(*, actor, change: DoseChange, password: str, acknowledge_warnings: bool = False) -> DoseChange:
    """T9: a neurologist signs by re-entering their password; the signature's meaning is recorded with it."""
    if refusal := approval_refusal(actor):  # the role before the signature; the change's state under the lock
        raise refusal
    if authenticate(username=actor.username, password=password) is None:
        raise SignatureRejected("T9: the password does not match; the dose change was not signed.", rule="T9")
    pump, change = locked_change(change)
    if change.warnings and not acknowledge_warnings:
        raise WorkflowConflict("T8: acknowledge the range warnings to sign: " + " ".join(change.warnings), rule="T8")
    if refusal := approval_refusal(actor, change):
        raise refusal
    change.approve()
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
        action=AuditAction.DOSE_CHANGE_APPROVED,
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
    """T9: a neurologist refuses a dose change before it is programmed, giving the reason."""
    require_role(actor, Role.NEUROLOGIST, rule="T9", doing="reject a dose change")
    if not reason.strip():
        raise InvalidInput({"reason": ["Give the reason for rejecting the dose change."]})
    pump, change = locked_change(change)
    try:
        _reject(change, pump, actor, reason, rule="T9", at=timezone.now())
    except TransitionNotAllowed as exc:
        raise WorkflowConflict(
            f"T9: this dose change is {change.state} and can no longer be rejected.", rule="T9"
        ) from exc
    return change
