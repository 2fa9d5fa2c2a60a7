import re
import uuid

from django.conf import settings
from django.utils.cache import add_never_cache_headers

from .logging import current_request

# Accept a caller's request id (e.g. from the hospital's proxy) only if it looks like one.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID, echoed back) and exposes the request to the log records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class SecurityHeadersMiddleware:
    """Headers of every dynamic answer (pages, API, schema; static files are answered before this middleware):
    a Permissions-Policy that switches off the browser features WardFlow never uses, and no caching anywhere, since
    nearly every page and API answer carries patient data that must not stay behind on a shared tablet or proxy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        add_never_cache_headers(response)
        return response
