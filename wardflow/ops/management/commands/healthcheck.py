from django.core.management.base import BaseCommand, CommandError

from wardflow.ops import health


class Command(BaseCommand):
    help = "Exit non-zero unless PostgreSQL and Redis answer and Celery beat ran recently (as GET /healthz)."

    def handle(self, *args, **options):
        failing = health.failures()
        if failing:
            raise CommandError("; ".join(f"{part}: {why}" for part, why in failing.items()))
        self.stdout.write("ok")
