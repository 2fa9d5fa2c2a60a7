from django.db.models import QuerySet

from wardflow.compiled import CompiledRows
from wardflow.errors import DomainError
from wardflow.staff.models import WARD_SCOPED_ROLES, Role
from wardflow.staff.roles import role_refusal

from .models import Patient


def sees_own_wards(user) -> bool:
    """Nurses and neurologists see the patients of their wards (and what is theirs); other roles see none."""
    return getattr(user, "role", None) in WARD_SCOPED_ROLES


def visible_patients(user) -> QuerySet[Patient]:
    """Nurses and neurologists see only patients of their wards; others of theirs do not exist for them."""
    patients = Patient.objects.select_related("ward")
    if sees_own_wards(user):
        return patients.filter(ward__in=user.ward_ids)
    return patients.none()


def in_reach(read: CompiledRows, user, pk: int):
    """The record an act names, if it is of the caller's wards (as `visible_patients` sees them); None otherwise.
    `read` takes its id and the caller's (-1, -2) and joins the caller's wards (the rows `user.ward_ids` holds): every
    act sends this read, compiled once."""
    if not sees_own_wards(user):
        return None
    return read.first(pk, user.pk)


def reach_read(model, ward: str, *related, fields: tuple[str, ...] = ()) -> CompiledRows:
    """The read `in_reach` sends for a record of `model`: by its id, joined to the caller's wards through `ward` (the
    path to the record's ward), with `related` and `fields` as `CompiledRows` reads them."""
    return CompiledRows(model, lambda pk, user: model.objects.filter(pk=pk, **{f"{ward}__staff": user}), *related,
                        placeholders=(-1, -2), fields=fields)  # fmt: skip


_PATIENT_IN_REACH = reach_read(Patient, "ward", "ward")


def patient_to_act_on(user, pk: int) -> Patient | None:
    """The patient an act names (an observation charted), with their ward."""
    return in_reach(_PATIENT_IN_REACH, user, pk)


def flags_refusal(actor) -> DomainError | None:
    """A nurse or neurologist charts a patient's flags, e.g. an infection found or resolved (P1)."""
    return role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="P1", doing="chart a patient's flags")


def may_chart_flags(actor) -> bool:
    return flags_refusal(actor) is None
