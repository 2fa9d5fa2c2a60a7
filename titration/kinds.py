"""What the pump's acts leave behind: their due checks, their alerts and their audit events."""

from enum import StrEnum


class CheckKind(StrEnum):
    REFILL_REMINDER = "titration.refill_reminder"  # R3/R4: days before the refill is due
    REFILL_OVERDUE = "titration.refill_overdue"  # R3/R4: from the due date, daily until a refill is charted
    TITRATION_STEP_DUE = "titration.step_due"  # T3: 24 h after a titration step became active
    REFILL_OBSERVATION = "titration.observation_after_refill"  # R6/A1: the observation due 1 h after a refill
    ELECTIVE_REPLACEMENT = "titration.elective_replacement"  # T13: ahead of the pump's end of battery life

    @property
    def label(self) -> str:
        """How the ward board names the next item due."""
        return {
            CheckKind.REFILL_REMINDER: "Refill reminder",
            CheckKind.REFILL_OVERDUE: "Refill due",
            CheckKind.TITRATION_STEP_DUE: "Titration step",
            CheckKind.REFILL_OBSERVATION: "Observation",
            CheckKind.ELECTIVE_REPLACEMENT: "Pump replacement",
        }[self]


class AlertKind(StrEnum):
    REFILL_DUE = "refill_due"
    REFILL_OVERDUE = "refill_overdue"
    RESIDUAL_DISCREPANCY = "residual_discrepancy"
    SUDDEN_INCREASE = "sudden_increase"
    LACK_OF_RESPONSE = "lack_of_response"  # T10: increases without a fall in mean Ashworth
    TITRATION_STEP_DUE = "titration_step_due"
    ELECTIVE_REPLACEMENT = "elective_replacement"  # T13: the pump's end of battery life is near


class AuditAction(StrEnum):
    PUMP_IMPLANTED = "pump.implanted"
    PUMP_EXPLANTED = "pump.explanted"
    PUMP_REPLACED = "pump.replaced"
    PHASE_CHANGED = "pump.phase_changed"
    DOSE_CHANGE_PROPOSED = "dose_change.proposed"
    DOSE_CHANGE_OVERRIDDEN = "dose_change.overridden"
    DOSE_CHANGE_REFUSED = "dose_change.refused"  # D1/T4: a refused proposal, kept although nothing was created
    DOSE_CHANGE_APPROVED = "dose_change.approved"
    DOSE_CHANGE_REJECTED = "dose_change.rejected"
    PROGRAMMING_MISMATCH = "dose_change.programming_mismatch"
    DOSE_CHANGE_PROGRAMMED = "dose_change.programmed"
    READ_BACK_MISMATCH = "dose_change.read_back_mismatch"  # T12: the second clinician's read-back differed
    DOSE_CHANGE_READ_BACK = "dose_change.read_back"  # T12: read back independently; the change is in force
    REFILL_RECORDED = "refill.recorded"
    REFILL_ENTERED_IN_ERROR = "refill.entered_in_error"  # D4
