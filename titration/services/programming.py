"""Programming of a signed change, checked by blind re-entry of what the pump reads back (T9, T12). With the policy
`independent_readback` one clinician programs the pump and records it with their own blind re-entry (the change is
`programmed`), and a second clinician of the ward reads the pump back blind: only a matching read-back puts the
change in force. Without the policy the programming's own re-entry does. Once in force, the refill schedule follows
it (R2-R4) and the next titration step is due in 24 h (T3)."""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time, shown
from wardflow.compiled import save_fields
from wardflow.errors import WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import DoseChangeKind, Phase

from ..kinds import AuditAction, CheckKind
from ..models import DoseChange, Pump
from ..selectors import parse_segments, programming_refusal, programming_time_refusal, readback_refusal
from .pumps import lock_dose_change, locked_change
from .refills import reschedule_refill, take_new_strength

# Who put a change in force and when (T12): its programmer and, under the independent read-back, its reader.
_IN_FORCE_BY = ["programmed_by", "programmed_at", "read_back_by", "read_back_at"]


class ProgrammingMismatch(WorkflowConflict):
    """T12: the values read back from the pump differ from the signed program."""

    rule = "T12"

    def __init__(
        self,
        change: DoseChange,
        *,
        daily_dose_mcg: Decimal,
        concentration_mcg_per_ml: Decimal,
        segments: list[dict] | None,
        action: AuditAction,
    ):
        super().__init__(
            "T12: the values read back from the pump do not match the approved program. Check the pump (mcg/day, "
            "not mcg/hour; the concentration; the time segments, if any) and enter them again."
        )
        # Kept as attributes, not as `extra`: the API must not show the clinician what was expected.
        self.change = change
        self.daily_dose_mcg = daily_dose_mcg
        self.concentration_mcg_per_ml = concentration_mcg_per_ml
        self.segments = segments
        self.action = action


def programmed_concentration(change: DoseChange, pump: Pump) -> Decimal:
    """T12: the strength the signed program is for, which a blind entry must match: the pump's, or the new one of a
    concentration change (T15)."""
    return change.concentration_mcg_per_ml or pump.concentration_mcg_per_ml


def _check_entry(change, pump, *, daily_dose_mcg, concentration_mcg_per_ml, segments, action) -> None:
    """T12: a blind entry matches the signed program: daily dose, concentration, and the time segments when the
    program has them (compared as programs, so "120" and "120.0" percent are one)."""
    if (
        daily_dose_mcg != change.new_daily_dose_mcg
        or concentration_mcg_per_ml != programmed_concentration(change, pump)
        or parse_segments(segments or []) != parse_segments(change.segments)
    ):
        raise ProgrammingMismatch(
            change,
            daily_dose_mcg=daily_dose_mcg,
            concentration_mcg_per_ml=concentration_mcg_per_ml,
            segments=segments,
            action=action,
        )


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def confirm_programming(
    *,
    actor,
    change: DoseChange,
    programmed_at: datetime,
    daily_dose_mcg: Decimal,
    concentration_mcg_per_ml: Decimal,
    segments: list[dict] | None = None,
) -> DoseChange:
    """T9/T12: the nurse programs the pump from the signed order and records it, re-entering what the pump reads
    back without seeing the approved values. With `independent_readback` the change is then `programmed`, waiting for
    the read-back; without it, in force. A mismatch is refused, changes nothing, and is itself audited."""
    if refusal := programming_refusal(actor):  # the role before any record is read; the change's state under the lock
        raise refusal
    entry = {"daily_dose_mcg": daily_dose_mcg, "concentration_mcg_per_ml": concentration_mcg_per_ml,
             "segments": segments}  # fmt: skip
    try:
        return _program(actor=actor, change=change, programmed_at=programmed_at, entry=entry)
    except ProgrammingMismatch as mismatch:
        # T12: the refused attempt is audited even though the act it belongs to was rolled back.
        _record_mismatch(actor, mismatch, at=programmed_at)
        raise


def read_back(
    *,
    actor,
    change: DoseChange,
    read_at: datetime,
    daily_dose_mcg: Decimal,
    concentration_mcg_per_ml: Decimal,
    segments: list[dict] | None = None,
) -> DoseChange:
    """T12 (policy `independent_readback`): a second clinician of the ward, neither the programmer nor the signer,
    reads the programmed pump back blind; a match puts the change in force at `read_at`. A mismatch is refused,
    changes nothing, and is itself audited."""
    if refusal := readback_refusal(actor):  # the role before any record is read; the change's state under the lock
        raise refusal
    entry = {"daily_dose_mcg": daily_dose_mcg, "concentration_mcg_per_ml": concentration_mcg_per_ml,
             "segments": segments}  # fmt: skip
    try:
        return _read_back(actor=actor, change=change, read_at=read_at, entry=entry)
    except ProgrammingMismatch as mismatch:
        _record_mismatch(actor, mismatch, at=read_at)
        raise


@transaction.atomic
def _program(*, actor, change, programmed_at, entry) -> DoseChange:
    pump, change = locked_change(change)
    ensure_clinical_time("programmed_at", programmed_at, pump.patient)
    if refusal := programming_refusal(actor, change):
        raise refusal
    if refusal := programming_time_refusal(change, programmed_at):
        raise refusal
    _check_entry(change, pump, **entry, action=AuditAction.PROGRAMMING_MISMATCH)
    change.programmed_by, change.programmed_at = actor, programmed_at
    if not current_policy().independent_readback:
        return _put_in_force(actor, pump, change, change.activate, at=programmed_at,
                             action=AuditAction.DOSE_CHANGE_PROGRAMMED)  # fmt: skip
    change.record_programming()
    save_fields(change, ["state", "programmed_by", "programmed_at"])
    record_event(
        actor=actor,
        action=AuditAction.DOSE_CHANGE_PROGRAMMED,
        at=programmed_at,
        patient=pump.patient,
        subject=change,
        before={"state": DoseChange.State.APPROVED},
        after={"state": change.state, "programmed_by": actor.username},
        rules=["T9", "T12", "T3"],
    )
    return change


@transaction.atomic
def _read_back(*, actor, change, read_at, entry) -> DoseChange:
    pump, change = locked_change(change)
    ensure_clinical_time("read_at", read_at, pump.patient)
    if refusal := readback_refusal(actor, change):
        raise refusal
    # Charted to the minute, like the programming it checks.
    if read_at < _minute(change.programmed_at):
        raise WorkflowConflict(
            f"T12: the pump is read back after it was programmed ({shown(change.programmed_at)}).", rule="T12"
        )
    _check_entry(change, pump, **entry, action=AuditAction.READ_BACK_MISMATCH)
    change.read_back_by, change.read_back_at = actor, read_at
    return _put_in_force(actor, pump, change, change.read_back, at=read_at, action=AuditAction.DOSE_CHANGE_READ_BACK)


def _put_in_force(actor, pump: Pump, change: DoseChange, transition: Callable[[], None], *, at: datetime,
                  action: AuditAction) -> DoseChange:  # fmt: skip
    """The change becomes the program in force at `at`: the previous one is superseded, the refill schedule
    follows the new program (R2-R4) and, in titration, the next step is due after the spacing (T3)."""
    before_state, strength_before = change.state, pump.concentration_mcg_per_ml
    previous = pump.active_change
    if previous is not None:
        previous = lock_dose_change(previous.pk)
        previous.supersede()
        previous.superseded_at = at
        save_fields(previous, ["state", "superseded_at"])
    transition()
    save_fields(change, ["state", *_IN_FORCE_BY])
    pump.active_change = change  # saved with the refill dates it moves (R2)
    take_new_strength(pump, change)  # T15: before the schedule, which then follows the new strength's rate
    next_step = []
    if pump.phase == Phase.TITRATION and change.kind in (DoseChangeKind.INITIAL, DoseChangeKind.TITRATION):
        next_step.append(
            alerts.due_check(
                CheckKind.TITRATION_STEP_DUE,
                due_at=protocol.next_step_at(at, current_policy()),
                patient=pump.patient,
                subject=pump,
                payload={"after_change": change.pk},
            )
        )
    # T3: the step due after the previous change gives way to this one's, with the refill schedule (R2-R4).
    reschedule_refill(pump, at, also_cancel=[CheckKind.TITRATION_STEP_DUE], also_schedule=next_step,
                      save_with=["active_change"])  # fmt: skip
    after = {"daily_dose_mcg": change.new_daily_dose_mcg, "state": change.state, "refill_due_at": pump.refill_due_at}
    before = {"daily_dose_mcg": previous.new_daily_dose_mcg if previous else None, "state": before_state}
    rules = ["T9", "T12", "T3"]
    if pump.concentration_mcg_per_ml != strength_before:  # T15: the pump now runs at the new strength
        before["concentration_mcg_per_ml"] = strength_before
        after["concentration_mcg_per_ml"] = pump.concentration_mcg_per_ml
        rules.append("T15")
    if change.read_back_by is not None:  # T12: both people of the independent double check
        after |= {"programmed_by": change.programmed_by.username, "programmed_at": change.programmed_at,
                  "read_back_by": change.read_back_by.username}  # fmt: skip
    record_event(
        actor=actor,
        action=action,
        at=at,
        patient=pump.patient,
        subject=change,
        before=before,
        after=after,
        rules=rules,
    )
    return change


@transaction.atomic
def _record_mismatch(actor, mismatch: ProgrammingMismatch, *, at: datetime) -> None:
    change = mismatch.change
    record_event(
        actor=actor,
        action=mismatch.action,
        at=at,
        patient=change.pump.patient,
        subject=change,
        after={
            "entered_daily_dose_mcg": mismatch.daily_dose_mcg,
            "entered_concentration_mcg_per_ml": mismatch.concentration_mcg_per_ml,
            "entered_segments": mismatch.segments or [],
        },
        rules=["T12"],
    )
