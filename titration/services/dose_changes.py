"""Dose changes from proposal to signature: proposed against the program in force (T3-T8, T11, T14), superseded by
a reduction (T6), signed or rejected by a neurologist (T9), with the T10 advisories. A refused proposal changes
nothing and is itself audited (D1, T4)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ward_local, ward_today
from wardflow.errors import DomainError, InvalidInput, OutsideAllowedBand, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import PERCENT_INCREASE_KINDS, REDUCTION_KINDS, DoseChangeKind, Phase, Severity
from wardflow.staff import services as staff
from wardflow.staff.models import Role, SignatureMeaning
from wardflow.staff.roles import require_role

from ..kinds import AlertKind, AuditAction
from ..models import DoseChange, Pump, Refill
from ..selectors import (
    advised,
    approval_refusal,
    band_override_refusal,
    change_waiting,
    concentration_change_refusal,
    concentration_refill,
    kind_refusal,
    last_nonzero_daily_dose,
    parse_segments,
    proposal_refusal,
    range_findings,
    refill_adjustment_refusal,
    taper_refusal,
    taper_step,
    unanswered_increases,
)
from .pumps import locked_change, locked_pump, reject_change, reject_pending_changes


def _check_direction(kind: DoseChangeKind, active: Decimal, new: Decimal) -> None:
    if kind in PERCENT_INCREASE_KINDS and new <= active:
        raise InvalidInput(
            {
                "new_daily_dose_mcg": [
                    f"{'T3' if kind == DoseChangeKind.TITRATION else 'T5'}: a {kind.replace('_', ' ')} raises the "
                    f"active {active} mcg/day; to lower it use adverse_effect_reduction (T6) or discontinuation (T11)."
                ]
            }
        )
    if kind in REDUCTION_KINDS and new >= active:
        raise InvalidInput({"new_daily_dose_mcg": [f"{kind.replace('_', ' ')} lowers the active {active} mcg/day."]})
    if kind == DoseChangeKind.RESTART and new <= 0:
        raise InvalidInput({"new_daily_dose_mcg": ["T14: a restart sets a daily dose above 0 mcg/day."]}, rule="T14")
    if kind == DoseChangeKind.CONCENTRATION_CHANGE and new != active:
        raise InvalidInput(
            {"new_daily_dose_mcg": [f"T15: a concentration change keeps the active {active} mcg/day; a new daily dose "
                                    "is a titration, refill adjustment or adverse-effect reduction for the refill."]},
            rule="T15",
        )  # fmt: skip


# --- T15: a concentration change at a refill ---------------------------------------------------------------------


def _new_strength(
    pump: Pump, refill: Refill | None, new_daily_dose_mcg: Decimal
) -> tuple[Refill | None, Decimal | None]:
    """T15: while the reservoir holds another strength than the one programmed (its last refill), every new program
    is for that strength and belongs to that refill. Returns the refill and the new strength (None: the pump's)."""
    fill = concentration_refill(pump)
    if fill is None:
        return refill, None
    if refill is not None and refill.pk != fill.pk:
        raise InvalidInput(
            {"refill": [f"T15: the reservoir holds {fill.concentration_mcg_per_ml} mcg/mL since the refill of "
                        f"{ward_local(fill.refilled_at):%Y-%m-%d %H:%M}; the new program is for that refill."]},
            rule="T15",
        )  # fmt: skip
    if refusal := concentration_change_refusal(pump, new_daily_dose_mcg):
        raise refusal
    return fill, fill.concentration_mcg_per_ml


def transition_record(transition: protocol.ConcentrationTransition) -> dict:
    """T15: what the change keeps of its transition; hours and the daily dose meanwhile as shown (0.1 h, 0.01
    mcg/day, half-even), the strength it changes from exact (R2 follows it until the change is in force)."""
    return {
        "from_mcg_per_ml": str(transition.old_concentration_mcg_per_ml),
        "dead_space_ml": str(transition.dead_space_ml),
        "hours": str(transition.hours.quantize(protocol.TRANSITION_HOURS)),
        "daily_dose_mcg_during": str(transition.daily_dose_mcg_during.quantize(protocol.TRANSITION_DOSE)),
        "warning": transition.message() if transition.warning else None,
    }


def _transition_warnings(transition: protocol.ConcentrationTransition | None) -> list[str]:
    """T15: a transition dose more than the policy percent away from the intended one is acknowledged at signature."""
    return [transition.message()] if transition is not None and transition.warning else []


def _transition_notices(transition: protocol.ConcentrationTransition | None) -> list[str]:
    return [transition.message()] if transition is not None and not transition.warning else []


def _warning_rules(change: DoseChange) -> list[str]:
    """The rules whose warnings a signature acknowledges (T8 range, T15 transition), in the order of the warnings."""
    return list(dict.fromkeys(warning.split(":", 1)[0] for warning in change.warnings))


def _supersede_pending_increases(pump: Pump, actor, now: datetime) -> list[int]:
    """T6: a reduction for adverse effects rejects any increase still waiting to be programmed."""
    return reject_pending_changes(pump, actor, "T6: superseded by an adverse-effect reduction.", rule="T6", at=now)


def _raise_sudden_increase_advisory(pump: Pump, subject, now: datetime) -> None:
    alerts.raise_alert(
        kind=AlertKind.SUDDEN_INCREASE,
        severity=Severity.WARNING,
        patient=pump.patient,
        rule="T10",
        message="T10: the dose requirement is rising quickly; check pump function and catheter "
        "patency (kink, dislodgement).",
        target_role=Role.NEUROLOGIST,
        subject=subject,
        at=now,
    )


def _lack_of_response_notice() -> str:
    return (
        f"T10: mean Ashworth has not fallen after the last {current_policy().lack_of_response_increases} increases "
        "became active; exclude an inflammatory mass at the catheter tip and a catheter or pump failure before "
        "raising the dose further."
    )


def _raise_lack_of_response_advisory(pump: Pump, last_increase: DoseChange, now: datetime) -> bool:
    """T10: one advisory per run of unanswered increases (about the last of them). Returns whether it was raised."""
    if advised(AlertKind.LACK_OF_RESPONSE, last_increase):
        return False
    alerts.raise_alert(
        kind=AlertKind.LACK_OF_RESPONSE,
        severity=Severity.WARNING,
        patient=pump.patient,
        rule="T10",
        message=_lack_of_response_notice(),
        target_role=Role.NEUROLOGIST,
        subject=last_increase,
        at=now,
    )
    return True


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
    refill: Refill | None = None,
) -> DoseChange:
    """T3-T7, T10, T11, T14: propose a new daily dose against the active one; a step beyond its band needs a
    neurologist's written override (T4). A refusal is audited and re-raised (D1)."""
    if refusal := proposal_refusal(actor):  # the role before any record is read; the pump's program under the lock
        raise refusal
    asked = {
        "kind": kind,
        "new_daily_dose_mcg": new_daily_dose_mcg,
        "reason": reason,
        "segments": segments or [],
        "override_reason": override_reason,
        "serious_adverse_reaction": serious_adverse_reaction,
        "refill": refill.pk if refill is not None else None,
    }
    try:
        return _propose(actor=actor, pump=pump, kind=kind, new_daily_dose_mcg=new_daily_dose_mcg, reason=reason,
                        segments=segments or [], override_reason=override_reason,
                        serious_adverse_reaction=serious_adverse_reaction, refill=refill)  # fmt: skip
    except DomainError as refusal:
        # D1/T4: the refused proposal is audited although the act was rolled back (as the T12 mismatch is).
        _record_refusal(actor, pump, refusal, asked)
        raise


@transaction.atomic
def _propose(*, actor, pump, kind, new_daily_dose_mcg, reason, segments, override_reason, serious_adverse_reaction,
             refill) -> DoseChange:  # fmt: skip
    pump = locked_pump(pump)
    now = timezone.now()
    policy = current_policy()
    if refusal := proposal_refusal(actor, pump):
        raise refusal
    if refusal := kind_refusal(actor, pump, kind):
        raise refusal
    program = parse_segments(segments)
    if problems := protocol.validate_segments(program):
        raise InvalidInput({"segments": problems}, rule="T7")
    if override_reason.strip() and (refusal := band_override_refusal(actor)):
        raise refusal
    if serious_adverse_reaction and kind != DoseChangeKind.DISCONTINUATION:
        raise InvalidInput(
            {"serious_adverse_reaction": ["T11: only a discontinuation stops at once for a serious adverse reaction."]},
            rule="T11",
        )
    active = pump.active_change
    current = active.new_daily_dose_mcg
    _check_direction(kind, current, new_daily_dose_mcg)
    refill, strength = _new_strength(pump, refill, new_daily_dose_mcg)
    if kind == DoseChangeKind.REFILL_ADJUSTMENT:
        if refusal := refill_adjustment_refusal(pump, refill, now):
            raise refusal
    elif refill is not None and strength is None:
        raise InvalidInput({"refill": ["T5: only a refill adjustment belongs to a refill."]}, rule="T5")
    if kind != DoseChangeKind.ADVERSE_EFFECT_REDUCTION and change_waiting(pump):
        raise WorkflowConflict(
            "T9: another dose change is waiting for approval or programming; reject it first.", rule="T9"
        )
    patient = pump.patient
    age_band = protocol.age_band(patient.date_of_birth, ward_today(), policy)
    band = protocol.allowed_band(kind, protocol.SpasticityOrigin(patient.spasticity_origin), age_band)
    rules, notices, overridden = [], [], False
    if kind == DoseChangeKind.DISCONTINUATION:
        rules.append("T11")
        if serious_adverse_reaction:
            if problem := protocol.emergency_stop_problem(reason):
                raise InvalidInput({"reason": [problem]}, rule="T11")
            band = None  # T11: a serious adverse reaction stops without a taper
        else:
            step = taper_step(pump, new_daily_dose_mcg, now)
            if refusal := taper_refusal(pump, step):
                raise refusal
            band = step.band
    if band is not None:
        check = protocol.check_band(current, new_daily_dose_mcg, band)
        rules.append(band.rule)
        notices += check.notices
        if check.beyond_band:
            if not override_reason.strip():
                raise OutsideAllowedBand(
                    protocol.beyond_band_message(current, check, band),
                    rule=protocol.refusal_rule(band),
                    allowed_min_mcg=check.allowed_min_mcg,
                    allowed_max_mcg=check.allowed_max_mcg,
                )
            overridden = True
            rules.append("T4")
    if kind == DoseChangeKind.RESTART:
        last = last_nonzero_daily_dose(pump)
        restart = protocol.check_restart(last, new_daily_dose_mcg)
        rules += ["T14", "W1"]
        notices += restart.notices
        if restart.above_last_dose:
            if not override_reason.strip():
                raise OutsideAllowedBand(
                    f"T14: {new_daily_dose_mcg} mcg/day is above the last non-zero daily dose ({last} mcg/day); "
                    "restore at or near the previous dose (W1), or a neurologist overrides with a written reason "
                    f"(override_reason). Allowed without one: {restart.allowed_min_mcg} to {restart.allowed_max_mcg} "
                    "mcg/day.",
                    rule="T14",
                    allowed_min_mcg=restart.allowed_min_mcg,
                    allowed_max_mcg=restart.allowed_max_mcg,
                )
            overridden = True
    if segments:
        rules.append("T7")
    transition = None
    if strength is not None:
        transition = protocol.concentration_transition(
            pump.concentration_mcg_per_ml, strength, new_daily_dose_mcg, pump.dead_space_ml, policy
        )
        rules.append("T15")
    findings = range_findings(pump, new_daily_dose_mcg)
    if findings.notices or findings.warnings:
        rules.append("T8")
    unanswered = unanswered_increases(pump)
    if unanswered is not None:
        notices.append(_lack_of_response_notice())
    superseded = (
        _supersede_pending_increases(pump, actor, now) if kind == DoseChangeKind.ADVERSE_EFFECT_REDUCTION else []
    )
    change = DoseChange.objects.create(
        pump=pump,
        kind=kind,
        new_daily_dose_mcg=new_daily_dose_mcg,
        previous_daily_dose_mcg=current,
        # T14: a restart from 0 mcg/day has no percent of the active dose.
        percent_change=protocol.percent_change(current, new_daily_dose_mcg) if current else None,
        band_min_percent=band.min_percent if band else None,
        band_max_percent=band.max_percent if band else None,
        segments=segments,
        notices=notices + list(findings.notices) + _transition_notices(transition),
        warnings=list(findings.warnings) + _transition_warnings(transition),
        reason=reason,
        override_reason=override_reason if overridden else "",
        serious_adverse_reaction=serious_adverse_reaction,
        refill=refill if kind == DoseChangeKind.REFILL_ADJUSTMENT or strength is not None else None,
        concentration_mcg_per_ml=strength,
        concentration_transition=transition_record(transition) if transition else {},
        proposed_by=actor,
        proposed_at=now,
        earliest_at=protocol.earliest_programming(active.in_force_from, now, protocol.spaced_by_t3(kind), policy),
    )
    # T10: an increase beyond the band maximum, overridden here (a refused one is advised by _record_refusal).
    if overridden and kind in PERCENT_INCREASE_KINDS:
        _raise_sudden_increase_advisory(pump, change, now)
        rules.append("T10")
    if unanswered is not None and _raise_lack_of_response_advisory(pump, unanswered, now):
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
            "refill": change.refill_id,
            "concentration_mcg_per_ml": strength,
            "concentration_transition": change.concentration_transition,
        },
        rules=rules,
        reason="; ".join(r for r in (reason, override_reason if overridden else "") if r),
    )
    return change


@transaction.atomic
def _record_refusal(actor, pump: Pump, refusal: DomainError, asked: dict) -> None:
    """D1: who asked for what, and the rule that refused it. T10: a refused increase beyond the band maximum raises
    the sudden-increase advisory as an overridden one does."""
    pump = Pump.objects.select_related("patient", "active_change").get(pk=pump.pk)
    now = timezone.now()
    rules = [refusal.rule] if refusal.rule else []
    if isinstance(refusal, OutsideAllowedBand) and asked["kind"] in PERCENT_INCREASE_KINDS:
        _raise_sudden_increase_advisory(pump, pump, now)
        rules.append("T10")
    record_event(
        actor=actor,
        action=AuditAction.DOSE_CHANGE_REFUSED,
        at=now,
        patient=pump.patient,
        subject=pump,
        before={"daily_dose_mcg": pump.active_change.new_daily_dose_mcg if pump.active_change else None},
        after={**asked, "refusal": refusal.detail, **refusal.extra},
        rules=rules,
        reason=refusal.detail,
    )


def approve_dose_change(
    *,
    actor,
    change: DoseChange,
    password: str,
    username: str = "",
    meaning: SignatureMeaning = SignatureMeaning.APPROVAL,
    first_of_session: bool = False,
    acknowledge_warnings: bool = False,
) -> DoseChange:
    """T9, D5: a neurologist signs by re-entering their password, and their user name too at the first signature of
    a login session; the signer's name, the time and the meaning are recorded with it."""
    if refusal := approval_refusal(actor):  # the role before the signature; the change's state under the lock
        raise refusal
    # D5: outside the signing transaction, so that a failed signature stays audited while the signing is refused.
    staff.verify_signature(
        signer=actor, password=password, username=username, first_of_session=first_of_session,
        patient=change.pump.patient, subject=change,
    )  # fmt: skip
    return _sign(actor, change, SignatureMeaning(meaning), acknowledge_warnings)


@transaction.atomic
def _sign(actor, change: DoseChange, meaning: SignatureMeaning, acknowledge_warnings: bool) -> DoseChange:
    pump, change = locked_change(change)
    if change.warnings and not acknowledge_warnings:
        warned = _warning_rules(change)
        raise WorkflowConflict(
            f"{'/'.join(warned)}: acknowledge the warnings to sign: " + " ".join(change.warnings), rule=warned[0]
        )
    if refusal := approval_refusal(actor, change):
        raise refusal
    change.approve()
    now = timezone.now()
    change.approved_by, change.approved_at = actor, now
    change.warnings_acknowledged = bool(change.warnings)
    change.signature_meaning = (
        f"{meaning.label} by {actor.display_name()} at {ward_local(now):%Y-%m-%d %H:%M %Z}: "
        f"{change.kind.replace('_', ' ')} to {change.new_daily_dose_mcg} mcg/day"
    )
    change.save()
    rules = ["T9"] + (_warning_rules(change) if change.warnings else [])
    # T10: the increases that count are T3/T5 steps; a T14 restart from a stop is no rising requirement.
    if pump.phase == Phase.MAINTENANCE and change.kind in PERCENT_INCREASE_KINDS:
        approved_increases = [
            c.approved_at
            for c in pump.dose_changes.filter(approved_at__isnull=False, kind__in=PERCENT_INCREASE_KINDS)
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
        reject_change(change, pump, actor, reason, rule="T9", at=timezone.now())
    except TransitionNotAllowed as exc:
        raise WorkflowConflict(
            f"T9: this dose change is {change.state} and can no longer be rejected.", rule="T9"
        ) from exc
    return change
