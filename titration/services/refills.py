"""Refills (R1, R2, R5, R6), a new strength with its new program (T15), and the refill schedule every change of
fill, program or withdrawal risk recomputes (R2-R4)."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from alerts.models import DueCheck
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time
from wardflow.compiled import CompiledInsert, fields_write, save_fields
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.policy import current_policy
from wardflow.protocol import Severity
from wardflow.staff.models import Role

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import DoseChange, Pump, Refill
from ..selectors import (
    REFILL_HISTORY,
    dose_change_history,
    estimated_volume,
    pending_concentration_change,
    program_periods,
    refill_refusal,
    refill_safety_problems,
    refill_schedule_changes,
)
from .dose_changes import propose_dose_change
from .pumps import fill_problem, locked_pump

REFILL_ALERT_KINDS = (AlertKind.REFILL_DUE, AlertKind.REFILL_OVERDUE)
_REFILL_INSERT = CompiledInsert(Refill)


def _reminder_checks(pump: Pump, set_at: datetime, earlier_levels: tuple[int, ...] = ()) -> list[DueCheck]:
    """R3/R4: the reminders of the pump's refill due date, from `set_at` on (the levels already past are not raised
    after the fact, but the nearest), for the caller to schedule once it has cancelled the pending ones."""
    levels = protocol.refill_reminder_days(pump.patient.high_withdrawal_risk, current_policy())
    return [
        alerts.due_check(CheckKind.REFILL_REMINDER, due_at=reminder.at, patient=pump.patient, subject=pump,
                         payload={"days_before": reminder.days_before})
        for reminder in protocol.refill_reminders(pump.refill_due_at, set_at, levels, earlier_levels)
    ]  # fmt: skip


def reschedule_refill(
    pump: Pump,
    moment: datetime,
    actor=None,
    changes: list[DoseChange] | None = None,
    *,
    also_cancel: Iterable[str] = (),
    also_schedule: Iterable[DueCheck] = (),
    save_with: Iterable[str] = (),
) -> None:
    """R2-R4: recompute alarm and refill due from `moment` at the program now in force. R3: the reminders of the
    old due date are closed (pending checks cancelled, open alerts resolved), so that a pump never has a stale or a
    second open refill reminder; the new date's are scheduled. `changes`: the pump's changes as
    `refill_schedule_changes` reads them, when the caller has read them already. `also_cancel`: kinds of the
    pump's own checks the caller closes; `also_schedule`: the caller's checks; closed and scheduled with the
    refill's; `save_with`: the pump's fields the caller changed and has not saved, written with the new dates. The
    cancel, the pump's update and the new checks are one statement."""
    active = pump.active_change
    checks = list(also_schedule)
    if active is None or active.new_daily_dose_mcg == 0:
        pump.alarm_at = pump.refill_due_at = None
    else:
        if changes is None:
            changes = refill_schedule_changes(pump)  # R2 and T15 in one read
        volume = estimated_volume(pump, moment, program_periods(pump, changes))
        strength, daily = pump.concentration_mcg_per_ml, active.new_daily_dose_mcg
        # T15: while a new strength's program waits to be in force, the alarm is taken at whichever of the two
        # programs empties the reservoir sooner; once it is in force, at its own rate (rescheduled then from the
        # same fill).
        if (pending := pending_concentration_change(pump, changes)) is not None:
            strength, daily = protocol.faster_program(
                (strength, daily), (pending.concentration_mcg_per_ml, pending.new_daily_dose_mcg)
            )
        pump.alarm_at = protocol.alarm_time(moment, volume, pump.alarm_ml, strength, daily)
        pump.refill_due_at = protocol.refill_due(pump.alarm_at, current_policy())
        # The levels already past are judged when the date is set (a late entry's `moment` may be long gone).
        overdue = alerts.due_check(CheckKind.REFILL_OVERDUE, due_at=pump.refill_due_at, patient=pump.patient,
                                   subject=pump)  # fmt: skip
        checks = [*_reminder_checks(pump, timezone.now()), overdue, *checks]
    cancelled = [CheckKind.REFILL_REMINDER, CheckKind.REFILL_OVERDUE, *also_cancel]
    alerts.schedule(checks, along=[alerts.cancelling(subject=pump, kinds=cancelled),
                                   fields_write(pump, ["alarm_at", "refill_due_at", *save_with])])  # fmt: skip
    # Resolved once the checks are cancelled: a check being raised meanwhile was waited for, and its alert is
    # resolved here. T13: one pump in place per patient, so the patient's refill alerts are this pump's.
    alerts.resolve_alerts(patient=pump.patient, kinds=REFILL_ALERT_KINDS, actor=actor)


def take_new_strength(pump: Pump, change: DoseChange) -> None:
    """T15: once a concentration change is in force the pump runs at the new strength (its rate is the new
    program's); the reservoir estimate keeps counting from the refill that filled it, each program at its own
    strength (R2). The change's proposal audited the new strength (D1)."""
    if change.concentration_mcg_per_ml is None or change.concentration_mcg_per_ml == pump.concentration_mcg_per_ml:
        return
    pump.concentration_mcg_per_ml = change.concentration_mcg_per_ml
    save_fields(pump, ["concentration_mcg_per_ml"])


@transaction.atomic
def reschedule_refill_reminders(*, patient, high_risk_before: bool) -> None:
    """R4: a withdrawal-risk factor (P4) charted or cleared after programming moves the reminders of the pump in
    place at once: the new risk's levels from now on; a level already past is raised now only when it is the
    nearest and the earlier levels did not hold it (it was raised in its time). The due date does not change."""
    # A pump explanted meanwhile is not found: the lock re-reads the row.
    pump = (
        Pump.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(patient=patient, explanted_at__isnull=True, refill_due_at__isnull=False)
        .first()
    )
    if pump is None:
        return
    earlier = protocol.refill_reminder_days(high_risk_before, current_policy())
    alerts.schedule(_reminder_checks(pump, timezone.now(), earlier),
                    along=[alerts.cancelling(subject=pump, kinds=[CheckKind.REFILL_REMINDER])])  # fmt: skip


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
    septum_access_confirmed: bool = False,
    aseptic_technique: bool = False,
    new_program: dict | None = None,
    dead_space_ml: Decimal | None = None,
) -> Refill:
    """R5: record the refill of a pump in place (T13); the residual found is checked against the estimate
    (advisory beyond 2 mL); the reservoir estimate, alarm and refill due restart from this fill (R2) and the
    reminders of the old due date give way to the new one's (R3/R4). R6: only through the reservoir septum with
    aseptic technique, both confirmed; an observation falls due 1 h later. T15: a new strength comes with its new
    program (`new_program`: new_daily_dose_mcg, segments), proposed for signature in the same transaction with its
    transition; `dead_space_ml` records the pump's dead space when the implant did not."""
    if refusal := refill_refusal(actor):  # the role before any record is read; the pump's state under the lock
        raise refusal
    if problems := refill_safety_problems(septum_access_confirmed, aseptic_technique):
        raise InvalidInput(problems, rule="R6")
    pump = locked_pump(pump)
    if refusal := refill_refusal(actor, pump):
        raise refusal
    ensure_clinical_time("refilled_at", refilled_at, pump.patient)
    if refilled_at < pump.filled_at:
        raise InvalidInput({"refilled_at": ["A refill cannot precede the previous fill."]})
    errors = {}
    if volume_removed_ml > pump.reservoir_ml:
        errors["volume_removed_ml"] = [
            f"R5: the volume removed ({volume_removed_ml} mL) cannot exceed the reservoir ({pump.reservoir_ml} mL)."
        ]
    if problem := fill_problem(volume_added_ml, pump.alarm_ml, pump.reservoir_ml):
        errors["volume_added_ml"] = [problem]
    if errors:
        raise InvalidInput(errors, rule="R5" if max(volume_removed_ml, volume_added_ml) > pump.reservoir_ml else "R1")
    new_strength = concentration_mcg_per_ml != pump.concentration_mcg_per_ml
    # R2, T15: the programs in force and a new strength's pending program, read once for the refusal, the residual
    # expected and the new alarm; without a new strength no dose change is added, and the whole history read here
    # is also the answer's.
    changes = refill_schedule_changes(pump) if new_strength else dose_change_history(pump)
    _check_new_strength(pump, concentration_mcg_per_ml, new_program, dead_space_ml, changes)
    expected = estimated_volume(pump, refilled_at, program_periods(pump, changes))
    # The pump's refills, the new one among them, are the answer's (T13's history): read in the insert's statement.
    refill = Refill(
        pump=pump,
        refilled_at=refilled_at,
        volume_removed_ml=volume_removed_ml,
        volume_added_ml=volume_added_ml,
        concentration_mcg_per_ml=concentration_mcg_per_ml,
        lot=lot,
        expected_residual_ml=expected,
        septum_access_confirmed=True,
        aseptic_technique=True,
        refilled_by=actor,
    )
    _REFILL_INSERT.save_onto(refill, pump, "refills", REFILL_HISTORY)
    before = {"refill_due_at": pump.refill_due_at, "alarm_at": pump.alarm_at, "dead_space_ml": pump.dead_space_ml}
    # R2: the estimate restarts from the new fill, at the program in force.
    pump.filled_at, pump.volume_after_fill_ml = refilled_at, volume_added_ml
    if dead_space_ml is not None:
        pump.dead_space_ml = dead_space_ml  # T15: recorded once, for this and every later transition
    filled = ["filled_at", "volume_after_fill_ml", "dead_space_ml"]
    observation = _observation_check(pump, refill)
    change = None
    if new_strength:
        # The proposal reads the pump as filled; the schedule then follows the program it leaves pending (T15).
        save_fields(pump, filled)
        change = _propose_for_new_strength(actor, pump, refill, new_program)
        reschedule_refill(pump, refilled_at, actor, also_schedule=[observation])
    else:
        reschedule_refill(pump, refilled_at, actor, changes, also_schedule=[observation], save_with=filled)
    gap = protocol.residual_discrepancy(expected, volume_removed_ml, current_policy())
    if gap is not None:
        alerts.raise_alert(
            kind=AlertKind.RESIDUAL_DISCREPANCY,
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
        action=AuditAction.REFILL_RECORDED,
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
            "septum_access_confirmed": True,
            "aseptic_technique": True,
            "concentration_mcg_per_ml": concentration_mcg_per_ml,
            "dead_space_ml": pump.dead_space_ml,
            "dose_change": change.pk if change else None,
        },
        rules=["R1", "R2", "R5", "R6"] + (["T15"] if change else []),
    )
    return refill


def _check_new_strength(pump: Pump, strength: Decimal, new_program: dict | None, dead_space_ml: Decimal | None,
                        changes: list[DoseChange]) -> None:  # fmt: skip
    """T15: a fill of another strength than the one programmed comes with the program for it; never while another
    strength's program is still pending (the reservoir would no longer hold what it was signed for). `changes`: as
    `refill_schedule_changes` reads them."""
    if pending := pending_concentration_change(pump, changes):
        raise WorkflowConflict(
            f"T15: the program for {pending.concentration_mcg_per_ml} mcg/mL filled at the last refill is still "
            f"{pending.state}; sign and program it, or reject it, before the next refill.",
            rule="T15",
        )
    if dead_space_ml is not None and pump.dead_space_ml is not None and dead_space_ml != pump.dead_space_ml:
        raise InvalidInput(
            {"dead_space_ml": [f"T15: this pump's dead space is recorded ({pump.dead_space_ml} mL); leave it out."]},
            rule="T15",
        )
    if strength == pump.concentration_mcg_per_ml:
        if new_program is not None:
            raise InvalidInput(
                {"new_program": [f"T15: a new program comes with a new strength; this refill keeps "
                                 f"{strength} mcg/mL (propose a dose change instead)."]},
                rule="T15",
            )  # fmt: skip
        return
    if new_program is None:
        raise InvalidInput(
            {"new_program": [f"T15: a refill at {strength} mcg/mL instead of the programmed "
                             f"{pump.concentration_mcg_per_ml} mcg/mL needs the new program for it (new_program: "
                             "new_daily_dose_mcg, segments)."]},
            rule="T15",
        )  # fmt: skip
    if protocol.needs_dilution_record(strength):
        raise InvalidInput(
            {"concentration_mcg_per_ml": [f"T2: a change of strength at a refill is to a commercial one "
                                          f"({', '.join(map(str, protocol.COMMERCIAL_CONCENTRATIONS_MCG_PER_ML))} "
                                          "mcg/mL)."]},
            rule="T2",
        )  # fmt: skip


def _propose_for_new_strength(actor, pump: Pump, refill: Refill, new_program: dict) -> DoseChange:
    """T15: the new program, proposed through the ordinary proposal (bands, spacing, T8) with its transition."""
    new_dose = new_program["new_daily_dose_mcg"]
    kind = protocol.concentration_change_kind(pump.active_change.new_daily_dose_mcg, new_dose, pump.phase)
    return propose_dose_change(
        actor=actor,
        pump=pump,
        kind=kind,
        new_daily_dose_mcg=new_dose,
        reason=new_program.get("reason")
        or f"T15: refilled at {refill.concentration_mcg_per_ml} mcg/mL instead of {pump.concentration_mcg_per_ml}.",
        segments=new_program.get("segments") or [],
        refill=refill,
    )


def _observation_check(pump: Pump, refill: Refill) -> DueCheck:
    """R6/A1: an observation is due `refill_observation_hours` after the refill (overdose watch for a pocket fill);
    the check raises the A1 alert when none was charted by then (overdue after `observation_overdue_minutes`)."""
    policy = current_policy()
    due = refill.refilled_at + timedelta(hours=policy.refill_observation_hours)
    return alerts.due_check(
        CheckKind.REFILL_OBSERVATION,
        due_at=protocol.observation_overdue_at(due, policy),
        patient=pump.patient,
        subject=refill,
        payload={"slot_due_at": protocol.utc(due).isoformat()},
    )
