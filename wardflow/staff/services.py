from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from wardflow.audit.services import record_event
from wardflow.errors import InvalidInput

from .kinds import AuditAction
from .models import Role, User, Ward


@transaction.atomic
def create_ward(*, actor, code: str, name: str) -> Ward:
    ward = Ward.objects.create(code=code, name=name)
    record_event(actor=actor, action=AuditAction.WARD_CREATED, subject=ward, after={"code": code, "name": name})
    return ward


@transaction.atomic
def add_staff(*, actor, username: str, role: Role, password: str, ward_codes=(), **names) -> User:
    """Create a staff account with exactly one role and its wards; weak passwords are refused."""
    if User.objects.filter(username=username).exists():
        raise InvalidInput({"username": [f"A user named {username!r} already exists."]})
    wards = list(Ward.objects.filter(code__in=ward_codes))
    missing = sorted(set(ward_codes) - {w.code for w in wards})
    if missing:
        raise InvalidInput({"ward": [f"No ward with code {', '.join(missing)}."]})
    user = User(username=username, **names)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    user.wards.set(wards)
    record_event(
        actor=actor,
        action=AuditAction.STAFF_ADDED,
        subject=user,
        after={"username": username, "role": role, "wards": sorted(w.code for w in wards)},
    )
    return user
