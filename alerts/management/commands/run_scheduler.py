import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from alerts.services import dispatch_due_checks, send_pending_emails


class Command(BaseCommand):
    help = "Dispatch due checks (and pending alert e-mails): once with --once, else every --interval seconds."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one dispatch cycle and exit")
        parser.add_argument("--now", help="evaluate as of this ISO 8601 time (with offset) instead of the clock")
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args, once: bool, now: str | None, interval: float, **options):
        as_of = None
        if now is not None:
            as_of = parse_datetime(now)
            if as_of is None or as_of.tzinfo is None:
                raise CommandError(
                    f"--now must be an ISO 8601 time with an offset, e.g. 2026-11-26T14:00:00+00:00; got {now!r}"
                )
        while True:
            report = dispatch_due_checks(now=as_of)
            emailed = send_pending_emails(now=as_of)
            self.stdout.write(f"due checks done: {report.done}, failed: {report.failed}; alert e-mails sent: {emailed}")
            if once:
                return
            time.sleep(interval)
