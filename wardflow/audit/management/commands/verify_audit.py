from django.core.management.base import BaseCommand, CommandError

from wardflow.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the audit chain (D2): every event's hash and its link to the previous event."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event {report.first_bad_event} ({report.events} events before it verified)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.events} events verified."))
