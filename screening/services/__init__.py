"""Screening trial acts (S1-S10, P1-P5). Each is one transaction: lock the trial, check the protocol, change state,
write one audit event (D1), and schedule or close its due-checks."""

from .assessments import assess_response
from .corrections import mark_observation_entered_in_error, mark_test_dose_entered_in_error
from .doses import give_test_dose
from .observations import chart_observation
from .trials import cancel_trial, close_trial_schedule, open_trial, resume_trial, suspend_trial

__all__ = [
    "assess_response",
    "cancel_trial",
    "chart_observation",
    "close_trial_schedule",
    "give_test_dose",
    "mark_observation_entered_in_error",
    "mark_test_dose_entered_in_error",
    "open_trial",
    "resume_trial",
    "suspend_trial",
]
