"""Celery is just another caller of the alert services; the rows in PostgreSQL are the truth, so a task that is
lost, retried or run twice at once changes nothing."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def dispatch_due_checks():
    report = services.dispatch_due_checks()
    return {"done": report.done, "failed": report.failed}


@shared_task(ignore_result=True)
def send_alert_emails():
    return services.send_pending_emails()
