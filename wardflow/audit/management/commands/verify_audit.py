from django.core.management.base import BaseCommand, CommandError

from wardflow.audit import services


class Command(BaseCommand):
    help = (
        "Verify the audit chain (D2, D3): each event's hash and link, and the chain against the signed checkpoints of "
        "the checkpoint file. Only the events after the newest checkpoint are re-hashed unless --full."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="re-hash the whole chain and check every checkpoint")

    def handle(self, *args, full=False, **options):
        result = services.verify(full=full)
        if not result.ok:
            where = (
                f"Audit chain broken at event {result.first_bad_event}"
                if result.first_bad_event
                else "Audit chain broken"
            )
            raise CommandError(f"{where} ({result.events} events before it verified). {result.problem}")
        anchored = (
            f", anchored by the checkpoint at event {result.checkpoint_sequence}"
            if result.checkpoint_sequence is not None
            else ", no checkpoint taken yet"
        )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.events} events verified{anchored}."))
