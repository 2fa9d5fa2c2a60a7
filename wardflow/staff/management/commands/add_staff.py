import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from wardflow.errors import InvalidInput
from wardflow.staff.models import Role
from wardflow.staff.services import add_staff


class Command(BaseCommand):
    help = "Add a staff account. The password is read from standard input (prompted for on a terminal)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--ward", action="append", default=[], metavar="CODE", help="repeat for several wards")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="", help="where alert e-mails go (optional)")

    def handle(self, *args, **options):
        on_terminal = sys.stdin.isatty()
        password = getpass.getpass("Password: ") if on_terminal else sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("No password given on standard input.")
        try:
            user = add_staff(
                actor=None,
                username=options["username"],
                role=Role(options["role"]),
                password=password,
                ward_codes=options["ward"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
            )
        except InvalidInput as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())) from exc
        wards = ", ".join(options["ward"]) or "no ward"
        self.stdout.write(self.style.SUCCESS(f"Added {user.username} as {user.role} ({wards})."))
