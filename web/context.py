from django.conf import settings


def ward(request):
    return {"idle_seconds": settings.IDLE_LOGOUT_SECONDS}
