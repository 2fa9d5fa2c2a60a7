"""Screening's own kinds: the due checks it schedules, the alerts it raises, the audit actions it writes."""

from enum import StrEnum


class CheckKind(StrEnum):
    OBSERVATION_OVERDUE = "screening.observation_overdue"
    NEXT_DOSE_DUE = "screening.next_dose_due"

    @property
    def label(self) -> str:
        """What the ward board calls the next due item."""
        return {CheckKind.OBSERVATION_OVERDUE: "Observation", CheckKind.NEXT_DOSE_DUE: "Next test dose"}[self]


class AlertKind(StrEnum):
    OBSERVATION_OVERDUE = "observation_overdue"  # A1
    NEXT_TEST_DOSE_DUE = "next_test_dose_due"  # S3
    SERIOUS_ADVERSE_EVENT = "serious_adverse_event"  # S10
    OVERDOSE_SIGNS = "overdose_signs"  # O1
    WITHDRAWAL_SIGNS = "withdrawal_signs"  # W1: once the intrathecal infusion has started
    BOLUS_ADVERSE_EFFECT = "bolus_adverse_effect"  # W1: the same signs during screening, after a test bolus
    EARLY_WARNING = "early_warning"  # V1: NEWS2 low-medium risk or above


class AuditAction(StrEnum):
    """D1: every screening act writes one of these."""

    TRIAL_OPENED = "screening.opened"
    TEST_DOSE_GIVEN = "test_dose.given"
    OBSERVATION_CHARTED = "observation.charted"
    RESPONSE_ASSESSED = "response.assessed"
    TRIAL_SUSPENDED = "screening.suspended"
    TRIAL_RESUMED = "screening.resumed"
    TRIAL_CANCELLED = "screening.cancelled"
    OBSERVATION_ENTERED_IN_ERROR = "observation.entered_in_error"  # D4
    TEST_DOSE_ENTERED_IN_ERROR = "test_dose.entered_in_error"  # D4
