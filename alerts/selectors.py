from django.db.models import Q, QuerySet

from wardflow import protocol
from wardflow.errors import DomainError, RoleNotAllowed
from wardflow.staff.models import Role

from .models import Alert


def visible_alerts(user) -> QuerySet[Alert]:
    """The caller's alerts: those addressed to their role on their wards; neurologists also get escalated ones."""
    role = getattr(user, "role", None)
    if role not in (Role.NURSE, Role.NEUROLOGIST):
        return Alert.objects.none()
    mine = Q(target_role=role)
    if role == Role.NEUROLOGIST:
        mine |= Q(escalated_at__isnull=False)
    return Alert.objects.filter(mine, ward__in=user.ward_ids).order_by("-raised_at", "-id")


def acknowledge_refusal(user, alert: Alert) -> DomainError | None:
    """A2: urgent alerts are acknowledged by a neurologist; the one place that says who may acknowledge what."""
    if not protocol.may_acknowledge(protocol.Severity(alert.severity), user.role):
        return RoleNotAllowed("Urgent alerts must be acknowledged by a neurologist.", rule="A2")
    return None


def may_acknowledge(user, alert: Alert) -> bool:
    return alert.state in (Alert.State.OPEN, Alert.State.ESCALATED) and acknowledge_refusal(user, alert) is None
