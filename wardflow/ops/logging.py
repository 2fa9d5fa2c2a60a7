"""Request context for log records: every line carries the request id and the user (structured logs)."""

import logging
from contextvars import ContextVar

from django.utils.functional import empty

current_request: ContextVar = ContextVar("current_request", default=None)


def _username(request) -> str:
    user = getattr(request, "user", None)
    # Never resolve a lazy session user from inside logging: that would query the database mid-log.
    if user is None or getattr(user, "_wrapped", None) is empty:
        return "-"
    return user.username if user.is_authenticated else "anonymous"


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        request = current_request.get()
        record.request_id = getattr(request, "request_id", "-")
        record.user = _username(request) if request is not None else "-"
        return True
