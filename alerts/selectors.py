from django.db.models import Q, QuerySet

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
