"""Reads of pumps, programs and dose changes, and who may act on them now: the pages ask the `may_*` questions,
the services refuse with the same `*_refusal` answers."""

from datetime import datetime
from decimal import Decimal

from django.db.models import F, Prefetch, QuerySet

from screening.models import ScreeningTrial
from wardflow import protocol
from wardflow.clinical_time import ward_today
from wardflow.errors import DomainError, WorkflowConflict
from wardflow.patients.selectors import visible_patients
from wardflow.policy import current_policy
from wardflow.protocol import Segment, TrialState
from wardflow.staff.models import Role
from wardflow.staff.roles import role_refusal

from .models import DoseChange, Pump


def visible_pumps(user) -> QuerySet[Pump]:
    """Pumps of the patients the caller may see, most urgent refill first (no refill due last)."""
    return (
        Pump.objects.filter(patient__in=visible_patients(user))
        .select_related("patient", "patient__ward", "active_change")
        .order_by(F("refill_due_at").asc(nulls_last=True), "id")
    )


def pump_with_history(user, pk: int) -> Pump:
    changes = DoseChange.objects.select_related("proposed_by", "approved_by", "programmed_by", "rejected_by")
    return (
        visible_pumps(user)
        .prefetch_related(Prefetch("dose_changes", queryset=changes.order_by("-proposed_at", "-id")))
        .get(pk=pk)
    )


def visible_dose_changes(user) -> QuerySet[DoseChange]:
    return DoseChange.objects.filter(pump__patient__in=visible_patients(user)).select_related("pump", "pump__patient")


def days_to_alarm(pump: Pump, now: datetime) -> Decimal | None:
    """R2: days from now until the low-reservoir alarm at the program in force (exact; round only to show)."""
    if pump.alarm_at is None:
        return None
    return Decimal((pump.alarm_at - now).total_seconds()) / Decimal(86400)


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
    """R2: the reservoir volume at `moment`, from the last fill at the programs in force since."""
    periods = program_periods(pump) if periods is None else periods
    return protocol.volume_at(moment, pump.filled_at, pump.volume_after_fill_ml, pump.concentration_mcg_per_ml, periods)


def range_findings(pump: Pump, daily_mcg: Decimal) -> protocol.RangeFinding:
    """T8: where a daily dose lies against the usual maintenance range for this patient's origin and age."""
    patient = pump.patient
    return protocol.maintenance_range(
        daily_mcg, protocol.SpasticityOrigin(patient.spasticity_origin), patient.age_years(ward_today())
    )


def implant_defaults() -> dict:
    """The implant form's starting values: the hospital's usual low-reservoir alarm volume (R1)."""
    return {"alarm_ml": current_policy().default_alarm_volume_ml}


# --- who may act now ---------------------------------------------------------------------------------------------


def implant_refusal(actor, trial: ScreeningTrial | None = None) -> DomainError | None:
    """T1: a neurologist records the implant, only after a candidate screening trial, and only once. Without a
    trial: whether the actor may record implants at all."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T1", doing="record an implant"):
        return refusal
    if trial is None:
        return None
    if trial.state != TrialState.CANDIDATE:
        return WorkflowConflict(
            f"T1: only a candidate screening trial leads to an implant (this one is {trial.state}).", rule="T1"
        )
    if Pump.objects.filter(screening_trial=trial).exists():
        return WorkflowConflict("A pump was already implanted after this screening trial.", rule="T1")
    return None


def may_implant(actor, trial: ScreeningTrial) -> bool:
    return implant_refusal(actor, trial) is None


def proposal_refusal(actor, pump: Pump | None = None) -> DomainError | None:
    """T9: a nurse or a neurologist proposes changes of the program in force; the first program is the implant's
    initial dose (T1), which must be signed and programmed first. Without a pump: whether the actor may propose."""
    if refusal := role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="T9", doing="propose a dose change"):
        return refusal
    if pump is not None and pump.active_change_id is None:
        return WorkflowConflict("T9: the initial dose has not been programmed yet.", rule="T9")
    return None


def may_propose(actor, pump: Pump) -> bool:
    return proposal_refusal(actor, pump) is None


def band_override_refusal(actor) -> DomainError | None:
    """T4: only a neurologist may go beyond the allowed band, with a written reason."""
    return role_refusal(actor, Role.NEUROLOGIST, rule="T4", doing="override the allowed band")


def may_override_band(actor) -> bool:
    return band_override_refusal(actor) is None


def approval_refusal(actor, change: DoseChange | None = None) -> DomainError | None:
    """T9: a neurologist signs a dose change while it is proposed. Without a change: whether the actor may sign."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T9", doing="sign a dose change"):
        return refusal
    if change is not None and change.state != DoseChange.State.PROPOSED:
        return WorkflowConflict(
            f"T9: only a proposed dose change can be approved (this one is {change.state}).", rule="T9"
        )
    return None


def may_approve(actor, change: DoseChange) -> bool:
    return approval_refusal(actor, change) is None


def programming_refusal(actor, change: DoseChange | None = None) -> DomainError | None:
    """T9: a nurse confirms the programming of a signed (approved) dose change. Without a change: whether the actor
    may confirm programming."""
    if refusal := role_refusal(actor, Role.NURSE, rule="T9", doing="confirm the pump programming"):
        return refusal
    if change is not None and change.state != DoseChange.State.APPROVED:
        return WorkflowConflict(
            f"T9: only an approved dose change can be programmed (this one is {change.state}).", rule="T9"
        )
    return None


def may_program(actor, change: DoseChange) -> bool:
    return programming_refusal(actor, change) is None
