"""The pump itself: its implant (T1, T2, R1), explant and replacement (T13), its phase (T3, T5), and the lock every
act on it takes first."""

from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from screening.models import Assessment, ScreeningTrial
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_clinical_time, shown, ward_timezone, ward_today
from wardflow.compiled import LockedRow
from wardflow.errors import InvalidInput
from wardflow.patients.models import Patient
from wardflow.patients.signals import pump_implanted
from wardflow.policy import current_policy
from wardflow.protocol import DoseChangeKind, Phase, Response, Severity
from wardflow.staff.models import Role

from ..kinds import AlertKind, AuditAction, CheckKind
from ..models import PENDING, DoseChange, Pump
from ..selectors import (
    explant_refusal,
    implant_defaults,
    implant_refusal,
    phase_refusal,
    range_findings,
    replace_refusal,
)

# T13: what a pump's schedule leaves open in the ward's inbox; a pump taken out has no refill or titration step due.
SCHEDULE_ALERT_KINDS = (
    AlertKind.REFILL_DUE,
    AlertKind.REFILL_OVERDUE,
    AlertKind.TITRATION_STEP_DUE,
    AlertKind.ELECTIVE_REPLACEMENT,
)


def locked_pump(pump: Pump) -> Pump:
    return _lock_pump(pump.pk)


# Dose changes and refills of one pump queue on its row: each sees the program the previous one left. Every act on a
# pump or a dose change starts with these reads: compiled once.
_PUMP_LOCK = LockedRow(Pump, "patient", "active_change")
# A change's proposer, signer and programmer come along for the answer and the read-back's record (T12); only its row
# is locked.
_CHANGE_LOCK = LockedRow(DoseChange, ("proposed_by", ("id", "username")), "approved_by", "programmed_by")


def _lock_pump(pk: int) -> Pump:
    return _PUMP_LOCK.get(pk)


def locked_change(change: DoseChange) -> tuple[Pump, DoseChange]:
    pump = _lock_pump(change.pump_id)
    return pump, lock_dose_change(change.pk)


def lock_dose_change(pk: int) -> DoseChange:
    """The change's row, locked (its pump's lock held already)."""
    return _CHANGE_LOCK.get(pk)


def reject_change(change: DoseChange, pump: Pump, actor, reason: str, *, rule: str, at: datetime) -> None:
    """A change refused before it was programmed (T9), or set aside by a reduction (T6) or a pump taken out (T13);
    audited (D1)."""
    before = change.state
    change.reject()
    change.rejected_by, change.rejected_at, change.rejection_reason = actor, at, reason
    change.save()
    record_event(actor=actor, action=AuditAction.DOSE_CHANGE_REJECTED, patient=pump.patient, subject=change,
                 before={"state": before}, after={"state": change.state}, rules=[rule], reason=reason)  # fmt: skip


def reject_pending_changes(pump: Pump, actor, reason: str, *, rule: str, at: datetime) -> list[int]:
    """Rejects every change of the (locked) pump still waiting for signature or programming; returns their ids."""
    rejected = []
    for change in pump.dose_changes.select_for_update().filter(state__in=PENDING).order_by("id"):
        reject_change(change, pump, actor, reason, rule=rule, at=at)
        rejected.append(change.pk)
    return rejected


def elective_replacement_alert(pump: Pump, at: datetime, source_check=None) -> None:
    """T13: a warning to the ward's neurologists naming the pump and its elective replacement date (expected end of
    battery life), to plan the replacement."""
    days = (pump.elective_replacement_at - ward_today(at)).days
    when = f"in {days} day(s)" if days > 0 else "today" if days == 0 else f"{-days} day(s) ago"
    alerts.raise_alert(
        kind=AlertKind.ELECTIVE_REPLACEMENT,
        severity=Severity.WARNING,
        patient=pump.patient,
        rule="T13",
        message=f"T13: pump {pump} reaches its elective replacement date (end of battery life) on "
        f"{pump.elective_replacement_at:%Y-%m-%d}, {when}; plan its replacement.",
        target_role=Role.NEUROLOGIST,
        subject=pump,
        due_at=datetime.combine(pump.elective_replacement_at, time.min, tzinfo=ward_timezone()),
        source_check=source_check,
        at=at,
    )


def _schedule_elective_replacement(pump: Pump) -> None:
    """T13: the elective replacement alert falls due `elective_replacement_alert_days` before the date, at the start
    of that ward day; it is raised at once when that day has already come."""
    if pump.elective_replacement_at is None:
        return
    day = protocol.elective_replacement_alert_day(pump.elective_replacement_at, current_policy())
    due_at, now = datetime.combine(day, time.min, tzinfo=ward_timezone()), timezone.now()
    if due_at <= now:
        elective_replacement_alert(pump, now)
    else:
        alerts.schedule_check(CheckKind.ELECTIVE_REPLACEMENT, due_at=due_at, patient=pump.patient, subject=pump)


def fill_problem(volume_ml: Decimal, alarm_ml: Decimal, reservoir_ml: Decimal) -> str | None:
    """R1: a fill lies above the alarm volume; R5: the volume after the fill cannot exceed the reservoir."""
    if volume_ml > reservoir_ml:
        return f"R5: the volume after the fill ({volume_ml} mL) cannot exceed the reservoir ({reservoir_ml} mL)."
    if volume_ml <= alarm_ml:
        return f"R1: fill between the alarm volume ({alarm_ml} mL) and the reservoir ({reservoir_ml} mL)."
    return None


# Serial numbers are unique in the whole hospital; the answer is the same whichever ward holds the pump, so that it
# tells nothing about another ward's patients.
SERIAL_IN_USE = "This serial number is already recorded for a pump; check the number on the pump's label."


def _new_pump_errors(
    *,
    serial: str,
    implanted_at: datetime,
    reservoir_ml: Decimal,
    alarm_ml: Decimal | None,
    initial_volume_ml: Decimal,
    elective_replacement_at: date | None,
) -> tuple[Decimal, dict[str, list[str]]]:
    """R1 for the reservoir and its first fill (without an alarm volume, the hospital's usual one); T13 for the
    expected end of battery life. Returns the alarm volume and the errors."""
    if alarm_ml is None:
        alarm_ml = implant_defaults()["alarm_ml"]
    errors = {}
    if Pump.objects.filter(serial=serial).exists():
        errors["serial"] = [SERIAL_IN_USE]
    if alarm_ml >= reservoir_ml:
        errors["alarm_ml"] = ["R1: the alarm volume must be below the reservoir volume."]
    elif problem := fill_problem(initial_volume_ml, alarm_ml, reservoir_ml):
        errors["initial_volume_ml"] = [problem]
    if elective_replacement_at is not None and elective_replacement_at <= ward_today(implanted_at):
        errors["elective_replacement_at"] = ["T13: the elective replacement date comes after the implant."]
    return alarm_ml, errors


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
    alarm_ml: Decimal | None = None,
    concentration_mcg_per_ml: Decimal,
    initial_volume_ml: Decimal,
    dilution_note: str = "",
    dead_space_ml: Decimal | None = None,
    elective_replacement_at: date | None = None,
) -> Pump:
    """T1: only a candidate trial leads to an implant, never beside a pump in place (T13) nor with an active
    infection (P1); its positive response sets the initial daily dose, proposed for signature (T9). Without an
    alarm volume, the hospital's usual one applies (R1)."""
    if refusal := implant_refusal(actor):  # the role before any record is read
        raise refusal
    # The patient's row too: an infection charted (P1) or another pump implanted (T13) meanwhile waits for this act.
    trial = (
        ScreeningTrial.objects.select_for_update(of=("self", "patient"))
        .select_related("patient")
        .get(pk=screening_trial.pk)
    )
    if trial.patient_id != patient.pk:
        raise InvalidInput({"screening_trial": ["This screening trial belongs to another patient."]})
    # Judged on the locked trial: two implants recorded at once cannot both find it without a pump.
    if refusal := implant_refusal(actor, trial):
        raise refusal
    patient = trial.patient
    ensure_clinical_time("implanted_at", implanted_at, patient)
    alarm_ml, errors = _new_pump_errors(
        serial=serial,
        implanted_at=implanted_at,
        reservoir_ml=reservoir_ml,
        alarm_ml=alarm_ml,
        initial_volume_ml=initial_volume_ml,
        elective_replacement_at=elective_replacement_at,
    )
    if protocol.needs_dilution_record(concentration_mcg_per_ml) and not dilution_note.strip():
        errors["dilution_note"] = [
            f"T2: {concentration_mcg_per_ml} mcg/mL is not a commercial strength (50, 500, 2000); record the dilution "
            "with preservative-free 0.9% sodium chloride."
        ]
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
        initial_volume_ml=initial_volume_ml,
        implanted_by=actor,
        dead_space_ml=dead_space_ml,
        elective_replacement_at=elective_replacement_at,
    )
    findings = range_findings(pump, initial)
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
        action=AuditAction.PUMP_IMPLANTED,
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
            "dead_space_ml": dead_space_ml,
            "elective_replacement_at": elective_replacement_at,
            "initial_dose_change": change.pk,
            "initial_daily_dose_mcg": initial,
            "positive_test_dose_mcg": positive.test_dose.dose_mcg,
            "response_hours": positive.duration_hours,
        },
        rules=["T1", "T2", "T13", "P1", "R1"]
        + (["T15"] if dead_space_ml is not None else [])
        + (["T8"] if findings.notices or findings.warnings else []),
    )
    _schedule_elective_replacement(pump)
    pump_implanted.send(sender=Pump, actor=actor, patient=patient, screening_trial=trial)
    return pump


def _removal_problem(pump: Pump, removed_at: datetime) -> str | None:
    """A pump is taken out after the last thing recorded on it: its last fill and its program in force."""
    recorded = [pump.filled_at] + ([pump.active_change.in_force_from] if pump.active_change else [])
    if removed_at < (latest := max(recorded)):
        return f"The pump was last filled or programmed at {shown(latest)}; it was taken out after that."
    return None


def _take_out(pump: Pump, *, actor, removed_at: datetime, reason: str) -> list[int]:
    """T13: the pump leaves the patient: nothing more is due on it. Its pending dose changes are rejected (each
    audited), its due checks cancelled (refill reminders, overdue, next titration step) before their open alerts
    are resolved (a check being raised meanwhile is waited for, then its alert resolved), and its alarm and refill
    dates cleared. Returns the rejected changes."""
    now = timezone.now()
    rejected = reject_pending_changes(pump, actor, f"T13: pump {pump} taken out: {reason}", rule="T13", at=now)
    alerts.cancel_checks(subject=pump, kinds=list(CheckKind))
    # T13: one pump in place per patient, so the patient's schedule alerts are this pump's.
    alerts.resolve_alerts(patient=pump.patient, kinds=SCHEDULE_ALERT_KINDS, actor=actor, at=now)
    pump.explanted_at, pump.explant_reason, pump.explanted_by = removed_at, reason, actor
    pump.alarm_at = pump.refill_due_at = None
    pump.save(update_fields=["explanted_at", "explant_reason", "explanted_by", "alarm_at", "refill_due_at"])
    return rejected


def _require_reason(reason: str, doing: str) -> None:
    if not reason.strip():
        raise InvalidInput({"reason": [f"T13: give the reason for {doing}."]}, rule="T13")


@transaction.atomic
def explant_pump(*, actor, pump: Pump, explanted_at: datetime, reason: str) -> Pump:
    """T13: a neurologist records that the pump was removed, and why. It keeps its record; nothing more is due."""
    if refusal := explant_refusal(actor):  # the role before any record is read; the pump's state under the lock
        raise refusal
    _require_reason(reason, "the explant")
    pump = locked_pump(pump)
    if refusal := explant_refusal(actor, pump):
        raise refusal
    ensure_clinical_time("explanted_at", explanted_at, pump.patient)
    if problem := _removal_problem(pump, explanted_at):
        raise InvalidInput({"explanted_at": [problem]})
    before = {"alarm_at": pump.alarm_at, "refill_due_at": pump.refill_due_at}
    rejected = _take_out(pump, actor=actor, removed_at=explanted_at, reason=reason)
    record_event(
        actor=actor,
        action=AuditAction.PUMP_EXPLANTED,
        at=explanted_at,
        patient=pump.patient,
        subject=pump,
        before=before,
        after={
            "explanted_at": explanted_at,
            "daily_dose_mcg": pump.active_change.new_daily_dose_mcg if pump.active_change else None,
            "rejected_dose_changes": rejected,
        },
        rules=["T13"],
        reason=reason,
    )
    return pump


@transaction.atomic
def replace_pump(
    *,
    actor,
    pump: Pump,
    replaced_at: datetime,
    reason: str,
    model: str,
    serial: str,
    reservoir_ml: Decimal,
    alarm_ml: Decimal | None = None,
    initial_volume_ml: Decimal,
    dead_space_ml: Decimal | None = None,
    elective_replacement_at: date | None = None,
) -> Pump:
    """T13: a neurologist replaces the pump (end of battery life, malfunction). The old one is taken out; the new
    one, filled at the replacement, starts at the program in force (daily dose, segments, concentration), not at a
    new T1 dose: proposed for signature (T9) and blind programming (T12) like any change, its reservoir and refill
    dates start from its own fill once it is programmed."""
    if refusal := replace_refusal(actor):  # the role before any record is read; the pump's state under the lock
        raise refusal
    _require_reason(reason, "the replacement")
    # The patient's row first, as a flag change does (P1), then the old pump's.
    Patient.objects.select_for_update().get(pk=pump.patient_id)
    old = locked_pump(pump)
    if refusal := replace_refusal(actor, old):
        raise refusal
    ensure_clinical_time("replaced_at", replaced_at, old.patient)
    alarm_ml, errors = _new_pump_errors(
        serial=serial,
        implanted_at=replaced_at,
        reservoir_ml=reservoir_ml,
        alarm_ml=alarm_ml,
        initial_volume_ml=initial_volume_ml,
        elective_replacement_at=elective_replacement_at,
    )
    if problem := _removal_problem(old, replaced_at):
        errors["replaced_at"] = [problem]
    if errors:
        raise InvalidInput(errors)
    carried = old.active_change
    before = {
        "pump": old.pk,
        "serial": old.serial,
        "daily_dose_mcg": carried.new_daily_dose_mcg,
        "segments": carried.segments,
        "concentration_mcg_per_ml": old.concentration_mcg_per_ml,
        "refill_due_at": old.refill_due_at,
    }
    rejected = _take_out(old, actor=actor, removed_at=replaced_at, reason=reason)
    new = Pump.objects.create(
        patient=old.patient,
        replaces=old,
        implanted_at=replaced_at,
        model=model,
        serial=serial,
        reservoir_ml=reservoir_ml,
        alarm_ml=alarm_ml,
        concentration_mcg_per_ml=old.concentration_mcg_per_ml,
        dilution_note=old.dilution_note,
        phase=old.phase,
        filled_at=replaced_at,
        volume_after_fill_ml=initial_volume_ml,
        initial_volume_ml=initial_volume_ml,
        implanted_by=actor,
        dead_space_ml=dead_space_ml,
        elective_replacement_at=elective_replacement_at,
    )
    findings = range_findings(new, carried.new_daily_dose_mcg)
    change = DoseChange.objects.create(
        pump=new,
        kind=DoseChangeKind.INITIAL,
        new_daily_dose_mcg=carried.new_daily_dose_mcg,
        segments=list(carried.segments),
        proposed_by=actor,
        proposed_at=timezone.now(),
        earliest_at=replaced_at,
        notices=list(findings.notices),
        warnings=list(findings.warnings),
        reason=f"T13: carried over from pump {old} ({carried.new_daily_dose_mcg} mcg/day at "
        f"{old.concentration_mcg_per_ml} mcg/mL), replaced: {reason}",
    )
    record_event(
        actor=actor,
        action=AuditAction.PUMP_REPLACED,
        at=replaced_at,
        patient=new.patient,
        subject=new,
        before=before,
        after={
            "pump": new.pk,
            "serial": serial,
            "model": model,
            "reservoir_ml": reservoir_ml,
            "alarm_ml": alarm_ml,
            "initial_volume_ml": initial_volume_ml,
            "dead_space_ml": dead_space_ml,
            "elective_replacement_at": elective_replacement_at,
            "concentration_mcg_per_ml": new.concentration_mcg_per_ml,
            "carried_dose_change": change.pk,
            "daily_dose_mcg": change.new_daily_dose_mcg,
            "segments": change.segments,
            "rejected_dose_changes": rejected,
        },
        rules=["T13", "P1", "R1"] + (["T8"] if findings.notices or findings.warnings else []),
        reason=reason,
    )
    _schedule_elective_replacement(new)
    return new


@transaction.atomic
def set_phase(*, actor, pump: Pump, phase: Phase, reason: str) -> Pump:
    """A neurologist ends titration (maintenance: refill adjustments, T5) or returns to it."""
    if refusal := phase_refusal(actor):
        raise refusal
    if not reason.strip():
        raise InvalidInput({"reason": ["Give the reason for changing the phase."]})
    pump = locked_pump(pump)
    if refusal := phase_refusal(actor, pump, phase):
        raise refusal
    before = pump.phase
    pump.phase = phase
    pump.save(update_fields=["phase"])
    if phase == Phase.MAINTENANCE:
        # T3: no next titration step is due once titration is over.
        alerts.cancel_checks(subject=pump, kinds=[CheckKind.TITRATION_STEP_DUE])
    record_event(
        actor=actor,
        action=AuditAction.PHASE_CHANGED,
        patient=pump.patient,
        subject=pump,
        before={"phase": before},
        after={"phase": phase},
        rules=["T3", "T5"],
        reason=reason,
    )
    return pump
