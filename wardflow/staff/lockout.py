"""What a locked-out login sees (axes' AXES_LOCKOUT_CALLABLE): the API a 429 body; the web and admin logins the
login page with the reason, also 429."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = (
    "Too many wrong passwords for this user name: logging in is locked for {minutes} minutes. "
    "Try again later, or ask an administrator."
)


def lockout_response(request, original_response, credentials):
    message = LOCKED_MESSAGE.format(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    context = {"form": AuthenticationForm(request), "locked": message}
    return render(request, "registration/login.html", context, status=status)
