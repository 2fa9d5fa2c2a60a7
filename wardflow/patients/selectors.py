from django.db.models import QuerySet

from wardflow.staff.models import WARD_SCOPED_ROLES

from .models import Patient


def visible_patients(user) -> QuerySet[Patient]:
    """Nurses and neurologists see only patients of their wards; others of theirs do not exist for them."""
    patients = Patient.objects.select_related("ward")
    if getattr(user, "role", None) in WARD_SCOPED_ROLES:
        return patients.filter(ward__in=user.ward_ids)
    return patients.none()
