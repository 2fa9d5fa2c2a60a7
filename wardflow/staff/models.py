from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property


class Role(models.TextChoices):
    """Roles are Django groups of the same name (created by migration, with their permissions)."""

    NURSE = "nurse", "Nurse"
    NEUROLOGIST = "neurologist", "Neurologist"
    ADMINISTRATOR = "administrator", "Administrator"


# Roles whose view of patients is limited to the wards they are assigned to (api.md conventions).
WARD_SCOPED_ROLES = frozenset({Role.NURSE, Role.NEUROLOGIST})


class Ward(models.Model):
    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Use letters, digits, '-' and '_' only.")],
    )
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


def _single_role(group_names: Iterable[str]) -> Role | None:
    names = [name for name in group_names if name in Role.values]
    return Role(names[0]) if len(names) == 1 else None


class User(AbstractUser):
    """A member of staff. Exactly one role (group); nurses and neurologists work on assigned wards."""

    wards = models.ManyToManyField(Ward, blank=True, related_name="staff")

    @cached_property
    def role(self) -> Role | None:
        return _single_role(g.name for g in self.groups.all())

    @cached_property
    def ward_ids(self) -> frozenset[int]:
        return frozenset(self.wards.values_list("id", flat=True))

    def know_access(self, *, group_names: Iterable[str], ward_ids: Iterable[int]) -> None:
        """Role and wards read along with the user (the API token's query): no query of their own this request."""
        self.__dict__["role"] = _single_role(group_names)
        self.__dict__["ward_ids"] = frozenset(ward_ids)

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class SignatureMeaning(models.TextChoices):
    """D5 (21 CFR 11.50): what a signature means, shown with the signer's name and the time."""

    APPROVAL = "approval", "Approved"


class SigningSession(models.Model):
    """D5 (21 CFR 11.200): an API token whose holder has signed once with user name and password; later signatures
    with the same token may give the password alone. Goes with its token (logout, expiry, revocation)."""

    token = models.OneToOneField(
        "knox.AuthToken", primary_key=True, on_delete=models.CASCADE, related_name="signing_session"
    )
    identified_at = models.DateTimeField()

    def __str__(self):
        return f"signing session of {self.token.user} since {self.identified_at:%Y-%m-%d %H:%M}"
