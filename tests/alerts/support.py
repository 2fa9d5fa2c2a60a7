"""Shared by the alert engine's tests: a stand-in feature check and helpers that raise alerts."""

from datetime import UTC, datetime

from django.db import transaction

from alerts import services
from wardflow.protocol import Severity
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CHECK = "test.observation_due"
calls: list[int] = []


def _observation_still_missing(check, now):
    """Stands in for a feature's handler: raises a nurse alert tied to the check that found the gap."""
    calls.append(check.pk)
    if check.payload.get("explode"):
        raise RuntimeError("evaluation failed")
    if check.payload.get("crash"):
        raise KeyboardInterrupt  # the worker dies mid-check
    services.raise_alert(
        kind="observation_overdue",
        severity=Severity(check.payload.get("severity", "warning")),
        patient=check.patient,
        rule="A1",
        message="Observation overdue",
        target_role=Role.NURSE,
        subject=check,
        due_at=check.due_at,
        source_check=check,
        at=now,
    )


services.register_check_handlers({CHECK: _observation_still_missing})


def schedule(patient, due_at=T0, **payload):
    with transaction.atomic():
        return services.schedule_check(CHECK, due_at=due_at, patient=patient, payload=payload)


def raise_now(patient, severity=Severity.WARNING, target_role=Role.NURSE, kind="observation_overdue"):
    with transaction.atomic():
        return services.raise_alert(
            kind=kind,
            severity=severity,
            patient=patient,
            rule="A1",
            message="Observation overdue",
            target_role=target_role,
            subject=patient,
        )
