from datetime import datetime
from decimal import Decimal

from django.db.models import F, Prefetch, QuerySet

from wardflow.patients.selectors import visible_patients

from .models import DoseChange, Pump


def visible_pumps(user) -> QuerySet[Pump]:
    """Pumps of the patients the caller may see, most urgent refill first (no refill due last)."""
    return (
        Pump.objects.filter(patient__in=visible_patients(user))
        .select_related("patient", "patient__ward", "active_change")
        .order_by(F("refill_due_at").asc(nulls_last=True), "id")
    )


def pump_with_history(user, pk: int) -> Pump:
    changes = DoseChange.objects.select_related("proposed_by", "approved_by", "programmed_by", "rejected_by")
    return (
        visible_pumps(user)
        .prefetch_related(Prefetch("dose_changes", queryset=changes.order_by("-proposed_at", "-id")))
        .get(pk=pk)
    )


def visible_dose_changes(user) -> QuerySet[DoseChange]:
    return DoseChange.objects.filter(pump__patient__in=visible_patients(user)).select_related("pump", "pump__patient")


def days_to_alarm(pump: Pump, now: datetime) -> Decimal | None:
    """R2: days from now until the low-reservoir alarm at the program in force (exact; round only to show)."""
    if pump.alarm_at is None:
        return None
    return Decimal((pump.alarm_at - now).total_seconds()) / Decimal(86400)
