"""Liveness of the parts WardFlow cannot work without: PostgreSQL, Redis, and Celery beat (via its heartbeat)."""

import time

import redis
from django.conf import settings
from django.db import connection

HEARTBEAT_KEY = "wardflow:beat-heartbeat"


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def record_heartbeat(now: float | None = None) -> None:
    redis_client().set(HEARTBEAT_KEY, repr(now if now is not None else time.time()))


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL does not answer: {exc.__class__.__name__}"
    return None


def check_redis_and_beat(now: float | None = None) -> dict[str, str]:
    try:
        raw = redis_client().get(HEARTBEAT_KEY)
    except redis.RedisError as exc:
        return {"redis": f"Redis does not answer: {exc.__class__.__name__}"}
    now = now if now is not None else time.time()
    if raw is None:
        return {"beat": "Celery beat has not run yet (no heartbeat recorded)."}
    silence = now - float(raw)
    if silence > settings.BEAT_MAX_SILENCE_SECONDS:
        return {"beat": f"Celery beat last ran {int(silence)} s ago (limit {settings.BEAT_MAX_SILENCE_SECONDS} s)."}
    return {}


def failures() -> dict[str, str]:
    found = {}
    if (db := check_database()) is not None:
        found["database"] = db
    found.update(check_redis_and_beat())
    return found
