"""Reads of pumps, programs and dose changes, and who may act on them now: the pages ask the `may_*` questions,
the services refuse with the same `*_refusal` answers."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q, QuerySet

from alerts.models import Alert, subject_key
from screening.models import ScreeningTrial
from screening.selectors import correction_refusal, scored_observations
from wardflow import protocol
from wardflow.clinical_time import shown, ward_local, ward_today
from wardflow.compiled import CompiledRead, CompiledRows, of_parent, read_onto
from wardflow.errors import DomainError, InvalidInput, RoleNotAllowed, WorkflowConflict
from wardflow.patients.selectors import in_reach, reach_read, visible_patients
from wardflow.policy import current_policy
from wardflow.protocol import Segment, TrialState
from wardflow.staff.models import Role
from wardflow.staff.roles import role_refusal

from .models import IN_FORCE_FROM, PENDING, WAS_IN_FORCE, DoseChange, Pump, Refill


def visible_pumps(user) -> QuerySet[Pump]:
    """Pumps of the patients the caller may see, most urgent refill first (no refill due last)."""
    return (
        Pump.objects.filter(patient__in=visible_patients(user))
        .select_related("patient", "patient__ward", "active_change")
        .order_by(F("refill_due_at").asc(nulls_last=True), "id")
    )


def pumps_in_place(user) -> QuerySet[Pump]:
    """The ward registry: the pumps in place (T13: an explanted pump keeps its record, off the registry)."""
    return visible_pumps(user).filter(explanted_at__isnull=True)


def pump_in_place(patient) -> Pump | None:
    """T13: "the patient's pump" is the one in place; a patient has at most one."""
    return Pump.objects.filter(patient=patient, explanted_at__isnull=True).select_related("active_change").first()


# Who acted on a dose change or a refill: the record shows their user name.
DOSE_CHANGE_ACTORS = ("proposed_by", "approved_by", "programmed_by", "read_back_by", "rejected_by")
REFILL_ACTORS = ("refilled_by", "entered_in_error_by")

# A pump's history (its dose changes newest first, its refills) is read by every act on the pump and its answer:
# compiled once, who acted on each row joined in the same statement (their user names); -1 the pump's id.
_DOSE_CHANGES = CompiledRows(
    DoseChange,
    lambda pump: DoseChange.objects.filter(pump=pump).order_by("-proposed_at", "-id"),
    *((actor, ("id", "username")) for actor in DOSE_CHANGE_ACTORS),
)
REFILL_HISTORY = CompiledRows(
    Refill, lambda pump: Refill.objects.filter(pump=pump), *((actor, ("id", "username")) for actor in REFILL_ACTORS)
)


def pump_with_history(user, pk: int) -> Pump:
    return with_history(visible_pumps(user).get(pk=pk))


def with_history(pump: Pump) -> Pump:
    """The pump with its dose changes and refills read onto it as `prefetch_related` would, each with who acted on
    it (the part an act has read already is not read again)."""
    read_onto(pump, "dose_changes", _DOSE_CHANGES)
    read_onto(pump, "refills", REFILL_HISTORY)
    return pump


def dose_change_history(pump: Pump) -> list[DoseChange]:
    """The pump's dose changes as its history shows them, read onto the pump: an act that reads them for its rules
    and adds none answers with them as read."""
    return read_onto(pump, "dose_changes", _DOSE_CHANGES)


_PUMP_IN_REACH = reach_read(Pump, "patient__ward", fields=("id",))
_CHANGE_IN_REACH = reach_read(DoseChange, "pump__patient__ward", "pump", "pump__patient")


def pump_to_act_on(user, pk: int) -> Pump | None:
    """The pump an act names (`in_reach`), read no further than its id: the act's service locks and re-reads it."""
    return in_reach(_PUMP_IN_REACH, user, pk)


def dose_change_to_act_on(user, pk: int) -> DoseChange | None:
    """The dose change an act names (`in_reach`), with its pump and patient (a signature's audit names the patient
    before the act's service locks and re-reads the change, D5)."""
    return in_reach(_CHANGE_IN_REACH, user, pk)


def visible_refills(user) -> QuerySet[Refill]:
    return Refill.objects.filter(pump__patient__in=visible_patients(user))


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


def programs_in_force(pump: Pump) -> QuerySet[DoseChange]:
    """The changes that have been the program in force, annotated `in_force_at`: when each became active (T12: at
    its read-back, or at its programming when the policy does without one)."""
    return pump.dose_changes.filter(state__in=WAS_IN_FORCE).annotate(in_force_at=IN_FORCE_FROM)


def program_periods(pump: Pump, changes: Iterable[DoseChange] | None = None) -> list[protocol.ProgramPeriod]:
    """R2: the programs that have been in force, each from the moment it became active. `changes`: the pump's dose
    changes (any state, any order) when the caller holds them already, as a pump read with its history does."""
    if changes is None:
        changes = programs_in_force(pump)
    changes = sorted((c for c in changes if c.in_force_from is not None), key=lambda c: (c.in_force_from, c.pk))
    strengths = programmed_strengths(pump, changes)
    return [
        protocol.ProgramPeriod(c.in_force_from, c.new_daily_dose_mcg, strength)
        for c, strength in zip(changes, strengths, strict=True)
    ]


def estimated_volume(pump: Pump, moment: datetime, periods: list[protocol.ProgramPeriod] | None = None) -> Decimal:
    """R2: the reservoir volume at `moment`, from the last fill at the programs in force since."""
    periods = program_periods(pump) if periods is None else periods
    return protocol.volume_at(moment, pump.filled_at, pump.volume_after_fill_ml, pump.concentration_mcg_per_ml, periods)


# Every proposal sends it (T15: a new strength comes with a refill): compiled once; -1 the pump.
_LAST_REFILL = CompiledRows(
    Refill,
    lambda pump: Refill.objects.filter(pump=pump, entered_in_error_at__isnull=True).order_by("-refilled_at", "-id")[:1],
)


def last_refill(pump: Pump) -> Refill | None:
    """D4: the pump's latest refill that counts (not entered in error)."""
    if (refill := _LAST_REFILL.first(pump.pk)) is not None:
        of_parent([refill], "pump", pump)
    return refill


def last_fill(pump: Pump) -> tuple[datetime, Decimal] | None:
    """R2, D4: the fill the reservoir estimate starts from: the latest refill not entered in error, else the
    implant's."""
    refill = last_refill(pump)
    if refill is not None:
        return refill.refilled_at, refill.volume_added_ml
    return None if pump.initial_volume_ml is None else (pump.implanted_at, pump.initial_volume_ml)


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
    """T1: a neurologist records the implant, only after a candidate screening trial, and only once; never while
    the patient has a pump in place (T13) or a charted active infection (P1). Without a trial: whether the actor may
    record implants at all."""
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
    if in_place := pump_in_place(trial.patient):
        return WorkflowConflict(
            f"T13: this patient has a pump in place ({in_place}); explant or replace it instead.", rule="T13"
        )
    return infection_refusal(trial.patient)


def may_implant(actor, trial: ScreeningTrial) -> bool:
    return implant_refusal(actor, trial) is None


def infection_refusal(patient) -> DomainError | None:
    """P1: no implant (a replacement pump included) while an active infection is charted."""
    if patient.active_infection:
        return WorkflowConflict(
            "P1: the patient has a charted active infection; no pump is implanted until it is charted resolved.",
            rule="P1",
        )
    return None


def explanted_refusal(pump: Pump) -> DomainError | None:
    """T13: an explanted pump keeps its record, and nothing more is done to it."""
    if not pump.in_place:
        return WorkflowConflict(f"T13: pump {pump} was explanted on {shown(pump.explanted_at)}.", rule="T13")
    return None


def explant_refusal(actor, pump: Pump | None = None) -> DomainError | None:
    """T13: a neurologist records the explant of a pump in place. Without a pump: whether the actor may."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T13", doing="record an explant"):
        return refusal
    return None if pump is None else explanted_refusal(pump)


def may_explant(actor, pump: Pump) -> bool:
    return explant_refusal(actor, pump) is None


def replace_refusal(actor, pump: Pump | None = None) -> DomainError | None:
    """T13: a neurologist replaces a pump in place whose program in force the new pump carries over; the new pump
    is an implant (P1). Without a pump: whether the actor may replace pumps at all."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T13", doing="record a pump replacement"):
        return refusal
    if pump is None:
        return None
    if refusal := explanted_refusal(pump):
        return refusal
    if pump.active_change_id is None:
        return WorkflowConflict(
            "T13: this pump has no program in force to carry over; sign and program its initial dose first, or "
            "explant it.",
            rule="T13",
        )
    return infection_refusal(pump.patient)


def may_replace(actor, pump: Pump) -> bool:
    return replace_refusal(actor, pump) is None


def phase_refusal(actor, pump: Pump | None = None, phase: protocol.Phase | None = None) -> DomainError | None:
    """T5: a neurologist moves a pump in place to maintenance (refill adjustments) or back to titration. Without a
    pump: whether the actor may change phases at all."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T5", doing="change the pump's phase"):
        return refusal
    if pump is None:
        return None
    if refusal := explanted_refusal(pump):
        return refusal
    if pump.phase == phase:
        return WorkflowConflict(f"The pump is already in the {phase} phase.", rule="T5")
    return None


def next_phase(pump: Pump) -> protocol.Phase:
    """T5: the phase a change of phase moves the pump to."""
    return protocol.Phase.TITRATION if pump.phase == protocol.Phase.MAINTENANCE else protocol.Phase.MAINTENANCE


def may_change_phase(actor, pump: Pump) -> bool:
    return phase_refusal(actor, pump, next_phase(pump)) is None


def refill_refusal(actor, pump: Pump | None = None) -> DomainError | None:
    """R5: a nurse or a neurologist refills a pump in place (T13). Without a pump: whether the actor may refill."""
    if refusal := role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="R5", doing="record a refill"):
        return refusal
    return None if pump is None else explanted_refusal(pump)


def may_refill(actor, pump: Pump) -> bool:
    return refill_refusal(actor, pump) is None


def proposal_refusal(actor, pump: Pump | None = None) -> DomainError | None:
    """T9: a nurse or a neurologist proposes changes of the program in force; the first program is the implant's
    initial dose (T1), which must be signed and programmed first. Without a pump: whether the actor may propose."""
    if refusal := role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="T9", doing="propose a dose change"):
        return refusal
    if pump is not None and (refusal := explanted_refusal(pump)):
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


def stopped(pump: Pump) -> bool:
    """T14: the therapy is stopped when the program in force is 0 mcg/day."""
    return pump.active_change is not None and pump.active_change.new_daily_dose_mcg == 0


def last_nonzero_daily_dose(pump: Pump) -> Decimal | None:
    """T14: the daily dose of the latest program in force that was not 0 mcg/day (what a restart is measured by)."""
    return (
        programs_in_force(pump)
        .filter(new_daily_dose_mcg__gt=0)
        .order_by("-in_force_at", "-id")
        .values_list("new_daily_dose_mcg", flat=True)
        .first()
    )


def restart_refusal(actor, pump: Pump | None = None) -> DomainError | None:
    """T14: a neurologist proposes the restart dose directly, once the therapy is stopped (0 mcg/day in force).
    Without a pump: whether the actor may propose restarts at all."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T14", doing="propose a restart"):
        return refusal
    if pump is not None and not stopped(pump):
        return WorkflowConflict(
            "T14: a restart follows a stop (0 mcg/day in force); change a running program by titration (T3), "
            "refill adjustment (T5) or reduction (T6, T11).",
            rule="T14",
        )
    return None


def kind_refusal(actor, pump: Pump, kind: protocol.DoseChangeKind) -> DomainError | None:
    """Which kind of change this pump's program in force allows now: the initial dose comes from the implant (T1);
    a stopped therapy is restarted directly, never by a percent of 0 mcg/day (T14); refill adjustments belong to
    the maintenance phase (T5). The pages offer the kinds this answers None for."""
    if kind == protocol.DoseChangeKind.INITIAL:
        return WorkflowConflict("T1: the initial dose is set by the implant.", rule="T1")
    if kind == protocol.DoseChangeKind.RESTART:
        return restart_refusal(actor, pump)
    if kind in protocol.PERCENT_INCREASE_KINDS and stopped(pump):
        return WorkflowConflict(
            f"T14: the therapy is stopped (0 mcg/day in force); a neurologist proposes the restart dose directly "
            f"(kind restart; the last non-zero daily dose was {last_nonzero_daily_dose(pump)} mcg/day).",
            rule="T14",
        )
    if kind == protocol.DoseChangeKind.REFILL_ADJUSTMENT and pump.phase != protocol.Phase.MAINTENANCE:
        return WorkflowConflict("T5: refill adjustments belong to the maintenance phase.", rule="T5")
    if kind == protocol.DoseChangeKind.CONCENTRATION_CHANGE and concentration_refill(pump) is None:
        return WorkflowConflict(
            "T15: a concentration change comes with a refill of the new strength; record the refill with its new "
            "program.",
            rule="T15",
        )
    return None


def last_taper_step_at(pump: Pump) -> datetime | None:
    """T11: when the latest taper step became active (an emergency stop is no taper step)."""
    return (
        programs_in_force(pump)
        .filter(kind=protocol.DoseChangeKind.DISCONTINUATION, serious_adverse_reaction=False)
        .order_by("-in_force_at")
        .values_list("in_force_at", flat=True)
        .first()
    )


def taper_step(pump: Pump, new_daily_dose_mcg: Decimal, now: datetime) -> protocol.TaperStep:
    """T11: a taper step to `new_daily_dose_mcg` proposed now, against the program in force and the previous step."""
    active = pump.active_change.new_daily_dose_mcg
    return protocol.taper_step(active, new_daily_dose_mcg, last_taper_step_at(pump), now, current_policy())


def taper_refusal(pump: Pump, step: protocol.TaperStep) -> DomainError | None:
    """T11: one taper step per `taper_step_spacing_hours`; the final step to 0 mcg/day only from
    `taper_final_step_max_mcg` or below (the refusal states the next step's range, T4)."""
    policy = current_policy()
    if step.not_before is not None:
        return WorkflowConflict(
            f"T11: one taper step per {policy.taper_step_spacing_hours} h; the next may be proposed from "
            f"{shown(step.not_before)}.",
            rule="T11",
            earliest_at=step.not_before,
        )
    if step.final_step_too_high:
        active = pump.active_change.new_daily_dose_mcg
        low, high = protocol.allowed_range_mcg(active, protocol.TAPER_BAND)
        return WorkflowConflict(
            f"T11: the final step to 0 mcg/day is taken from {policy.taper_final_step_max_mcg} mcg/day or below; "
            f"taper the active {active} mcg/day first (next step: {low} to {high} mcg/day), or stop at once only "
            "for a serious adverse reaction (serious_adverse_reaction, with the reason).",
            rule="T11",
            allowed_min_mcg=low,
            allowed_max_mcg=high,
        )
    return None


def refill_adjustment_refusal(pump: Pump, refill: Refill | None, now: datetime) -> DomainError | None:
    """T5: a refill adjustment is tied to a refill of this pump charted within the previous
    `refill_adjustment_window_hours`, and at most one to each refill."""
    if refill is None or refill.pump_id != pump.pk:
        return InvalidInput({"refill": ["T5: name the refill of this pump the adjustment belongs to."]}, rule="T5")
    if refill.entered_in_error:
        return WorkflowConflict("D4: this refill was entered in error; an adjustment cannot belong to it.", rule="D4")
    policy = current_policy()
    if not protocol.refill_adjustment_open(refill.refilled_at, now, policy):
        return WorkflowConflict(
            f"T5: a refill adjustment follows its refill within {policy.refill_adjustment_window_hours} h; this "
            f"refill was charted at {shown(refill.refilled_at)}. Use a titration step (T3) instead.",
            rule="T5",
        )
    if refill.adjustments.exclude(state=DoseChange.State.REJECTED).exists():
        return WorkflowConflict("T5: this refill already has its refill adjustment.", rule="T5")
    return None


def adjustable_refills(pump: Pump, now: datetime) -> list[Refill]:
    """T5: the refills of this pump that a refill adjustment may still name now (the refill form's choices)."""
    policy, adjustable = current_policy(), []
    for refill in pump.refills.filter(refilled_at__lte=now, entered_in_error_at__isnull=True).order_by("-refilled_at"):
        if not protocol.refill_adjustment_open(refill.refilled_at, now, policy):
            break  # newest first: every earlier refill lies outside the T5 window as well
        if refill_adjustment_refusal(pump, refill, now) is None:
            adjustable.append(refill)
    return adjustable


def offered_kinds(actor, pump: Pump) -> list[protocol.DoseChangeKind]:
    """The kinds of change the proposal page offers this actor for this pump now (T1, T5, T14)."""
    return [kind for kind in protocol.DoseChangeKind if kind_refusal(actor, pump, kind) is None]


_WAITING = CompiledRead(lambda pump: DoseChange.objects.filter(pump=pump, state__in=PENDING).values_list("pk")[:1],
                        placeholders=(-1,))  # fmt: skip


def change_waiting(pump: Pump) -> bool:
    """T9: a change of the pump waits for signature or programming (every proposal asks: compiled once)."""
    return bool(_WAITING.rows(pump.pk))


# Every proposal sends these (T10): compiled once; -1 the pump, the patient.
_ACTIVATED = CompiledRows(DoseChange, lambda pump: programs_in_force(Pump(pk=pump)).order_by("in_force_at", "id"))
_ASHWORTH = CompiledRead(
    lambda patient: scored_observations(patient).values_list("observed_at", "ashworth_mean"), placeholders=(-1,)
)


def unanswered_increases(pump: Pump) -> DoseChange | None:
    """T10: the last of a run of active increases after which mean Ashworth has not fallen (lack of response),
    or None. Observations are the patient's, charted at the time they were observed."""
    activated = _ACTIVATED.all(pump.pk)
    activations = [
        protocol.Activation(c.in_force_from, c.kind in protocol.PERCENT_INCREASE_KINDS and c.is_increase)
        for c in activated
    ]
    ashworth = _ASHWORTH.rows(pump.patient_id)
    if activated and protocol.lack_of_response(activations, ashworth, current_policy()):
        return activated[-1]
    return None


def advised(kind: str, subject) -> bool:
    """Whether an alert of this kind was ever raised about this record (an advisory is given once)."""
    subject_type, subject_id = subject_key(subject)
    return Alert.objects.filter(kind=kind, subject_type=subject_type, subject_id=subject_id).exists()


def approval_refusal(actor, change: DoseChange | None = None) -> DomainError | None:
    """T9: a neurologist signs a dose change while it is proposed. Without a change: whether the actor may sign."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="T9", doing="sign a dose change"):
        return refusal
    if change is not None and change.state != DoseChange.State.PROPOSED:
        return WorkflowConflict(
            f"T9: only a proposed dose change can be approved (this one is {change.state}).", rule="T9"
        )
    # T4 (policy independent_override_signature): a change beyond its band is signed by a second neurologist.
    if (
        change is not None
        and change.override_reason
        and change.proposed_by_id == actor.pk
        and current_policy().independent_override_signature
    ):
        return RoleNotAllowed(
            "T4: a change proposed with an override is signed by a neurologist other than its proposer.", rule="T4"
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


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def programming_time_refusal(change: DoseChange, programmed_at: datetime) -> DomainError | None:
    """T3: an approved change is programmed after its signature and, for a change the 24 h spacing holds, not before
    `earliest_at` (to the second); a change it does not hold waits only for its proposal or implant, charted to the
    minute like the signature."""
    # Charted times have minute precision: programming within the minute of the signature is after it.
    if programmed_at < _minute(change.approved_at):
        return WorkflowConflict("T3: the programming time is before the approval.", rule="T3")
    spaced = protocol.spaced_by_t3(change.kind)
    if programmed_at < (change.earliest_at if spaced else _minute(change.earliest_at)):
        why = (
            f"{current_policy().titration_spacing_hours} h after the previous change became active"
            if spaced
            else "its proposal or the implant"
        )
        return WorkflowConflict(
            f"T3: this change may be programmed from {ward_local(change.earliest_at):%Y-%m-%d %H:%M:%S} ({why}).",
            rule="T3",
            earliest_at=change.earliest_at,
        )
    return None


def readback_refusal(actor, change: DoseChange | None = None) -> DomainError | None:
    """T12 (policy `independent_readback`): a nurse or neurologist of the ward who neither programmed nor signed the
    change reads the programmed pump back. Without a change: whether the actor may read pumps back at all."""
    if refusal := role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="T12", doing="read the pump back"):
        return refusal
    if change is None:
        return None
    if change.state != DoseChange.State.PROGRAMMED:
        return WorkflowConflict(
            f"T12: only a programmed dose change waiting for its read-back can be read back (this one is "
            f"{change.state}).",
            rule="T12",
        )
    if actor.pk in (change.programmed_by_id, change.approved_by_id):
        return RoleNotAllowed(
            "T12: the read-back is an independent double check: a clinician of the ward who neither programmed nor "
            "signed this change reads the pump back.",
            rule="T12",
        )
    return None


def may_read_back(actor, change: DoseChange) -> bool:
    return readback_refusal(actor, change) is None


def approved_values_hidden(viewer, change: DoseChange) -> bool:
    """T12: while a change waits for its independent read-back, its approved values (daily dose, concentration,
    segments) are shown to no one who might read it back: only its programmer and its signer see them."""
    return change.state == DoseChange.State.PROGRAMMED and getattr(viewer, "pk", None) not in (
        change.programmed_by_id,
        change.approved_by_id,
    )


# --- concentration change at a refill (T15) and refill safety (R6) -----------------------------------------------


def programmed_strengths(pump: Pump, changes: list[DoseChange]) -> list[Decimal | None]:
    """T15/R2: the strength each program in force (oldest first) was programmed with, None where it is the pump's
    present one. Before a concentration change became active the pump ran at the strength it changed from."""
    strength, strengths = pump.concentration_mcg_per_ml, []
    for change in reversed(changes):
        strengths.append(None if strength == pump.concentration_mcg_per_ml else strength)
        if change.concentration_mcg_per_ml is not None:
            strength = Decimal(change.concentration_transition["from_mcg_per_ml"])
    return strengths[::-1]


def concentration_refill(pump: Pump) -> Refill | None:
    """T15: the pump's last fill when it was of another strength than the one programmed: every new program is for
    what the reservoir now holds."""
    last = last_refill(pump)
    return last if last is not None and last.concentration_mcg_per_ml != pump.concentration_mcg_per_ml else None


def concentration_change_of(refill: Refill, changes: Iterable[DoseChange] | None = None) -> DoseChange | None:
    """T15: the program proposed for the new strength of this refill (not a rejected one). `changes`: its pump's
    dose changes when the caller holds them already."""
    changes = refill.adjustments.all() if changes is None else changes
    standing = (c for c in changes if c.refill_id == refill.pk and c.state != DoseChange.State.REJECTED)
    return next((c for c in standing if c.concentration_mcg_per_ml is not None), None)


# T15: a change of strength not yet in force (the query's side of `pending_concentration_change`).
PENDING_STRENGTH = Q(state__in=PENDING, concentration_mcg_per_ml__isnull=False)


def pending_concentration_change(pump: Pump, changes: Iterable[DoseChange] | None = None) -> DoseChange | None:
    """T15: a concentration change still waiting for signature, programming or read-back (at most one is).
    `changes`: the pump's dose changes when the caller holds them already."""
    if changes is None:
        changes = pump.dose_changes.filter(PENDING_STRENGTH)
    return next((c for c in changes if c.state in PENDING and c.concentration_mcg_per_ml is not None), None)


# Every act that moves the refill schedule (read-back, refill) sends it: compiled once; -1 the pump.
_SCHEDULE_CHANGES = CompiledRows(
    DoseChange, lambda pump: DoseChange.objects.filter(Q(state__in=WAS_IN_FORCE) | PENDING_STRENGTH, pump=pump)
)


def refill_schedule_changes(pump: Pump) -> list[DoseChange]:
    """What the refill schedule follows, in one read: the programs that have been in force (R2) and a new
    strength's program still pending (T15), for `program_periods` and `pending_concentration_change`."""
    return of_parent(_SCHEDULE_CHANGES.all(pump.pk), "pump", pump)


def concentration_change_refusal(pump: Pump, new_daily_dose_mcg: Decimal) -> DomainError | None:
    """T15: the transition needs the pump's dead space (recorded at implant, or with the refill), and a program
    that delivers something; a new strength is a commercial one (T2: a dilution is prepared and recorded apart)."""
    if pump.dead_space_ml is None:
        return WorkflowConflict(
            f"T15: pump {pump} has no dead space recorded; enter the pump and catheter dead space (dead_space_ml, "
            "mL, from the implant record) with the refill so that the transition can be shown.",
            rule="T15",
        )
    if new_daily_dose_mcg <= 0:
        return InvalidInput(
            {"new_daily_dose_mcg": ["T15: a new strength is programmed with a daily dose above 0 mcg/day."]},
            rule="T15",
        )
    return None


def refill_safety_problems(septum_access_confirmed: bool, aseptic_technique: bool) -> dict[str, list[str]]:
    """R6: the refill record confirms access through the reservoir septum and aseptic technique."""
    problems = {}
    if septum_access_confirmed is not True:
        problems["septum_access_confirmed"] = [
            "R6: confirm the reservoir was accessed through its septum (never the catheter access port)."
        ]
    if aseptic_technique is not True:
        problems["aseptic_technique"] = ["R6: confirm the refill was done with aseptic technique."]
    return problems


def refill_correction_refusal(actor, pump: Pump, refill: Refill) -> DomainError | None:
    """D4: a nurse or neurologist of the ward marks a refill entered in error, once, unless a dose change proposed
    at that refill (T5, T15) still stands: it is rejected first."""
    if refusal := correction_refusal(actor, pump.patient, refill):
        return refusal
    standing = [c for c in refill.adjustments.all() if c.state != DoseChange.State.REJECTED]  # prefetched on pages
    if change := next(iter(standing), None):
        return WorkflowConflict(
            f"D4: the dose change proposed at this refill ({change.kind}, {change.new_daily_dose_mcg} mcg/day, "
            f"{change.state}) stands; reject it first.",
            rule="D4",
        )
    return None


def may_correct_refill(actor, pump: Pump, refill: Refill) -> bool:
    return refill_correction_refusal(actor, pump, refill) is None


def blind_transition(change: DoseChange) -> str | None:
    """T15 on the programming and read-back pages: how long the old strength runs first and what to watch for, in
    words that give away neither the approved daily dose nor the new strength (T12: blind entry)."""
    transition = change.concentration_transition
    if not transition:
        return None
    under = Decimal(transition["daily_dose_mcg_during"]) < change.new_daily_dose_mcg
    effect = "less than" if under else "more than"
    watch = "withdrawal signs (W1)" if under else "overdose signs (O1)"
    return (
        f"T15: new strength at this refill. The old drug left in the dead space runs first, for about "
        f"{transition['hours']} h after programming; the patient gets {effect} the intended dose meanwhile: watch "
        f"for {watch}."
    )
