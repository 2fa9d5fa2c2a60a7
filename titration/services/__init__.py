"""The pump's clinical acts (T1-T13, R1-R5). Each is one transaction: lock the pump, check the protocol, change
state, write one audit event (D1), and reschedule the due-checks that depend on it."""

from .corrections import mark_refill_entered_in_error
from .dose_changes import approve_dose_change, propose_dose_change, reject_dose_change
from .programming import confirm_programming, read_back
from .pumps import elective_replacement_alert, explant_pump, implant_pump, replace_pump, set_phase
from .refills import record_refill, reschedule_refill_reminders

__all__ = [
    "approve_dose_change",
    "confirm_programming",
    "elective_replacement_alert",
    "explant_pump",
    "implant_pump",
    "mark_refill_entered_in_error",
    "propose_dose_change",
    "read_back",
    "record_refill",
    "reject_dose_change",
    "replace_pump",
    "reschedule_refill_reminders",
    "set_phase",
]
