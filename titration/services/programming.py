"""Programming confirmed by the nurse's blind re-entry of what the pump reads back (T9, T12): the signed change
becomes the program in force, the refill schedule follows it (R2-R4) and the next titration step is due in 24 h
(T3)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from alerts import services as alerts
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time, ward_local
from wardflow.errors import WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import DoseChangeKind, Phase

from ..kinds import AuditAction, CheckKind
from ..models import DoseChange
from ..selectors import programming_refusal
from .pumps import locked_change
from .refills import reschedule_refill


class ProgrammingMismatch(WorkflowConflict):
    """T12: the values read back from the pump differ from the signed program."""

    rule = "T12"

    def __init__(self, change: DoseChange, *, daily_dose_mcg: Decimal, concentration_mcg_per_ml: Decimal):
        super().__init__(
            "T12: the values read back from the pump do not match the approved program. Check the pump (mcg/day, "
            "not mcg/hour; the concentration) and enter them again."
        )
        # Kept as attributes, not as `extra`: the API must not show the nurse what was expected.
        self.change = change
        self.daily_dose_mcg = daily_dose_mcg
        self.concentration_mcg_per_ml = concentration_mcg_per_ml


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def confirm_programming(
    *, actor, change: DoseChange, programmed_at: datetime, daily_dose_mcg: Decimal, concentration_mcg_per_ml: Decimal
) -> DoseChange:
    """T9/T12: the nurse confirms the pump was programmed, re-entering what the pump reads back without seeing the
    approved values. A mismatch is refused, changes nothing, and is itself audited."""
    if refusal := programming_refusal(actor):  # the role before any record is read; the change's state under the lock
        raise refusal
    try:
        return _activate(
            actor=actor,
            change=change,
            programmed_at=programmed_at,
            daily_dose_mcg=daily_dose_mcg,
            concentration_mcg_per_ml=concentration_mcg_per_ml,
        )
    except ProgrammingMismatch as mismatch:
        # T12: the refused attempt is audited even though the act it belongs to was rolled back.
        _record_mismatch(actor, mismatch, at=programmed_at)
        raise


@transaction.atomic
def _activate(*, actor, change, programmed_at, daily_dose_mcg, concentration_mcg_per_ml) -> DoseChange:
    pump, change = locked_change(change)
    ensure_clinical_time("programmed_at", programmed_at, pump.patient)
    if refusal := programming_refusal(actor, change):
        raise refusal
    # Charted times have minute precision: programming within the minute of the signature is after it.
    if programmed_at < _minute(change.approved_at):
        raise WorkflowConflict("T3: the programming time is before the approval.", rule="T3")
    # T3: the 24 h spacing holds to the second; a change it does not hold waits only for its proposal or implant,
    # charted to the minute like the signature.
    spaced = protocol.spaced_by_t3(change.kind)
    if programmed_at < (change.earliest_at if spaced else _minute(change.earliest_at)):
        why = (
            f"{current_policy().titration_spacing_hours} h after the previous change became active"
            if spaced
            else "its proposal or the implant"
        )
        raise WorkflowConflict(
            f"T3: this change may be programmed from {ward_local(change.earliest_at):%Y-%m-%d %H:%M:%S} ({why}).",
            rule="T3",
            earliest_at=change.earliest_at,
        )
    if daily_dose_mcg != change.new_daily_dose_mcg or concentration_mcg_per_ml != pump.concentration_mcg_per_ml:
        raise ProgrammingMismatch(
            change, daily_dose_mcg=daily_dose_mcg, concentration_mcg_per_ml=concentration_mcg_per_ml
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
    reschedule_refill(pump, programmed_at)
    alerts.cancel_checks(subject=pump, kinds=[CheckKind.TITRATION_STEP_DUE])
    if pump.phase == Phase.TITRATION and change.kind in (DoseChangeKind.INITIAL, DoseChangeKind.TITRATION):
        alerts.schedule_check(
            CheckKind.TITRATION_STEP_DUE,
            due_at=protocol.next_step_at(programmed_at, current_policy()),
            patient=pump.patient,
            subject=pump,
            payload={"after_change": change.pk},
        )
    record_event(
        actor=actor,
        action=AuditAction.DOSE_CHANGE_PROGRAMMED,
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
    return change


@transaction.atomic
def _record_mismatch(actor, mismatch: ProgrammingMismatch, *, at: datetime) -> None:
    change = mismatch.change
    record_event(
        actor=actor,
        action=AuditAction.PROGRAMMING_MISMATCH,
        at=at,
        patient=change.pump.patient,
        subject=change,
        after={
            "entered_daily_dose_mcg": mismatch.daily_dose_mcg,
            "entered_concentration_mcg_per_ml": mismatch.concentration_mcg_per_ml,
        },
        rules=["T12"],
    )
