from django.core.management.base import BaseCommand, CommandError

from wardflow.audit import services
from wardflow.errors import WorkflowConflict


class Command(BaseCommand):
    help = "Take a signed audit checkpoint now (D3), in the database and in the checkpoint file."

    def handle(self, *args, **options):
        try:
            checkpoint = services.take_checkpoint()
        except WorkflowConflict as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Checkpoint taken at event {checkpoint.sequence} ({checkpoint.events} events).")
        )
