from celery import shared_task

from . import health, idempotency


@shared_task
def beat_heartbeat():
    """Scheduled by beat every 30 s and run by a worker: /healthz reads it to know both are alive."""
    health.record_heartbeat()


@shared_task
def purge_idempotency_keys():
    return idempotency.purge_expired()
