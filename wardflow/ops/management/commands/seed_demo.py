import secrets
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from wardflow.ops.demo import seed_demo_patients
from wardflow.staff.models import Role, User
from wardflow.staff.services import add_staff, create_ward

DEMO_WARD = ("DEMO", "Demonstration ward")
DEMO_USERS = [
    ("nurse", Role.NURSE, "Nora", "Nurse"),
    ("neurologist", Role.NEUROLOGIST, "Nils", "Neurologist"),
    ("admin", Role.ADMINISTRATOR, "Ada", "Administrator"),
]


class Command(BaseCommand):
    help = (
        "On first run, create a demo ward, one user per role and three patients at different stages; "
        "print the credentials (every run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--credentials-file", required=True, type=Path)

    def handle(self, *args, credentials_file: Path, **options):
        if not User.objects.exists():
            self._seed(credentials_file)
        if credentials_file.exists():
            self.stdout.write("Demo accounts (ward DEMO):\n" + credentials_file.read_text())

    @transaction.atomic
    def _seed(self, credentials_file: Path):
        ward = create_ward(actor=None, code=DEMO_WARD[0], name=DEMO_WARD[1])
        lines, staff = [], {}
        for username, role, first, last in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            wards = [ward.code] if role != Role.ADMINISTRATOR else []
            staff[role] = (add_staff(actor=None, username=username, role=role, password=password, ward_codes=wards,
                                     first_name=first, last_name=last, email=f"{username}@demo.wardflow.invalid"),
                           password)  # fmt: skip
            lines.append(f"  {role.value:<14} username {username:<12} password {password}\n")
        (nurse, _), (neurologist, neurologist_password) = staff[Role.NURSE], staff[Role.NEUROLOGIST]
        seed_demo_patients(ward, nurse, neurologist, neurologist_password)
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text("".join(lines))
        credentials_file.chmod(0o600)
