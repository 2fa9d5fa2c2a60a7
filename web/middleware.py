import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect

POLL_HEADER = "X-Wardflow-Poll"


class IdleLogoutMiddleware:
    """Shared ward tablets: a session idle for IDLE_LOGOUT_SECONDS is logged out. Automatic refreshes (HTMX polls
    marked with the X-Wardflow-Poll header) do not count as activity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # request.user here is the web session's user (API tokens are read by the API views), whatever the headers.
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get("last_activity", now)
            if now - last > settings.IDLE_LOGOUT_SECONDS:
                logout(request)
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = settings.LOGIN_URL_PATH + "?idle=1"
                    return response
                return redirect(f"{settings.LOGIN_URL_PATH}?idle=1&next={request.path}")
            if not request.headers.get(POLL_HEADER):
                request.session["last_activity"] = now
        return self.get_response(request)
