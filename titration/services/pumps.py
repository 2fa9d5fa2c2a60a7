"""The pump itself: its implant (T1, T2, R1), its phase (T3, T5), and the lock every act on it takes first."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from screening.models import Assessment, ScreeningTrial
from wardflow import protocol
from wardflow.audit.services import record_event
from wardflow.clinical_time import ensure_not_future
from wardflow.errors import InvalidInput, WorkflowConflict
from wardflow.protocol import DoseChangeKind, Phase, Response
from wardflow.staff.models import Role
from wardflow.staff.roles import require_role

from ..kinds import AuditAction, CheckKind
from ..models import DoseChange, Pump
from ..selectors import implant_defaults, implant_refusal, range_findings


def locked_pump(pump: Pump) -> Pump:
    # Dose changes and refills of one pump queue on its row: each sees the program the previous one left.
    return (
        Pump.objects.select_for_update(of=("self",))
        .select_related("patient", "patient__ward", "active_change")
        .get(pk=pump.pk)
    )


def locked_change(change: DoseChange) -> tuple[Pump, DoseChange]:
    pump = locked_pump(change.pump)
    return pump, DoseChange.objects.select_for_update().get(pk=change.pk)


def fill_problem(volume_ml: Decimal, alarm_ml: Decimal, reservoir_ml: Decimal) -> str | None:
    """R1: a fill lies above the alarm volume and within the reservoir."""
    if alarm_ml < volume_ml <= reservoir_ml:
        return None
    return f"R1: fill between the alarm volume ({alarm_ml} mL) and the reservoir ({reservoir_ml} mL)."


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
) -> Pump:
    """T1: only a candidate trial leads to an implant; its positive response sets the initial daily dose, proposed
    for signature (T9). Without an alarm volume, the hospital's usual one applies (R1)."""
    if refusal := implant_refusal(actor):  # the role before any record is read
        raise refusal
    trial = ScreeningTrial.objects.select_for_update().get(pk=screening_trial.pk)
    if trial.patient_id != patient.pk:
        raise InvalidInput({"screening_trial": ["This screening trial belongs to another patient."]})
    # Judged on the locked trial: two implants recorded at once cannot both find it without a pump.
    if refusal := implant_refusal(actor, trial):
        raise refusal
    ensure_not_future("implanted_at", implanted_at)
    if alarm_ml is None:
        alarm_ml = implant_defaults()["alarm_ml"]
    errors = {}
    if protocol.needs_dilution_record(concentration_mcg_per_ml) and not dilution_note.strip():
        errors["dilution_note"] = [
            f"T2: {concentration_mcg_per_ml} mcg/mL is not a commercial strength (50, 500, 2000); record the dilution "
            "with preservative-free 0.9% sodium chloride."
        ]
    if alarm_ml >= reservoir_ml:
        errors["alarm_ml"] = ["R1: the alarm volume must be below the reservoir volume."]
    if (problem := fill_problem(initial_volume_ml, alarm_ml, reservoir_ml)) and "alarm_ml" not in errors:
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
            "initial_dose_change": change.pk,
            "initial_daily_dose_mcg": initial,
            "positive_test_dose_mcg": positive.test_dose.dose_mcg,
            "response_hours": positive.duration_hours,
        },
        rules=["T1", "T2", "R1"] + (["T8"] if findings.notices or findings.warnings else []),
    )
    return pump


@transaction.atomic
def set_phase(*, actor, pump: Pump, phase: Phase, reason: str) -> Pump:
    """A neurologist ends titration (maintenance: refill adjustments, T5) or returns to it."""
    require_role(actor, Role.NEUROLOGIST, rule="T5", doing="change the pump's phase")
    if not reason.strip():
        raise InvalidInput({"reason": ["Give the reason for changing the phase."]})
    pump = locked_pump(pump)
    before = pump.phase
    if before == phase:
        raise WorkflowConflict(f"The pump is already in the {phase} phase.", rule="T5")
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
