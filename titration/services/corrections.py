"""Marking a refill entered in error (D4). The refill stays, struck through with who, when and why; the reservoir
estimate goes back to the last fill that counts (the previous refill, else the implant's) and the refill schedule
follows it (R2-R4). Alerts it raised (R5) stay open for review."""

from django.db import transaction
from django.utils import timezone

from alerts import services as alerts
from screening.selectors import correction_refusal
from screening.services.corrections import mark, require_reason
from wardflow.audit.services import record_event
from wardflow.errors import WorkflowConflict

from ..kinds import AuditAction
from ..models import Refill
from ..selectors import last_fill, refill_correction_refusal
from .pumps import locked_pump
from .refills import reschedule_refill


@transaction.atomic
def mark_refill_entered_in_error(*, actor, refill: Refill, reason: str) -> Refill:
    """D4: refused while a dose change proposed at the refill (T5, T15) stands: it is rejected first."""
    if refusal := correction_refusal(actor):  # the role before any record is read
        raise refusal
    require_reason(reason)
    # Refills and dose changes of one pump queue on its row: the fill restored here is the one they see next.
    pump = locked_pump(refill.pump)
    refill = Refill.objects.select_for_update().get(pk=refill.pk)
    if refusal := refill_correction_refusal(actor, pump, refill):
        raise refusal
    before = {
        "entered_in_error": False,
        "filled_at": pump.filled_at,
        "volume_after_fill_ml": pump.volume_after_fill_ml,
        "alarm_at": pump.alarm_at,
        "refill_due_at": pump.refill_due_at,
    }
    mark(refill, actor, reason)
    alerts.cancel_checks(subject=refill)  # R6: no observation is due after a refill that was not made
    fill = last_fill(pump)
    if fill is None:
        raise WorkflowConflict(
            "D4: this pump's implant fill is not on record, so its reservoir cannot go back to it; record the "
            "refill actually made instead.",
            rule="D4",
        )
    if fill != (pump.filled_at, pump.volume_after_fill_ml):
        # R2: the estimate restarts from the fill that counts; a pump in place gets its refill dates from it.
        pump.filled_at, pump.volume_after_fill_ml = fill
        pump.save(update_fields=["filled_at", "volume_after_fill_ml"])
        if pump.in_place:
            reschedule_refill(pump, timezone.now(), actor)
    record_event(
        actor=actor,
        action=AuditAction.REFILL_ENTERED_IN_ERROR,
        patient=pump.patient,
        subject=refill,
        before=before,
        after={
            "entered_in_error": True,
            "refilled_at": refill.refilled_at,
            "volume_added_ml": refill.volume_added_ml,
            "filled_at": pump.filled_at,
            "volume_after_fill_ml": pump.volume_after_fill_ml,
            "alarm_at": pump.alarm_at,
            "refill_due_at": pump.refill_due_at,
        },
        rules=["D4"],
        reason=reason,
    )
    return refill
