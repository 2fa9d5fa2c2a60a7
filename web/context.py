from django.conf import settings
from django.utils.functional import SimpleLazyObject

from alerts.selectors import alert_counter
from wardflow.staff.models import Role


def ward(request):
    context = {"idle_seconds": settings.IDLE_LOGOUT_SECONDS}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.role in (Role.NURSE, Role.NEUROLOGIST):
        # Counted only when a page shows the navigation (a board refresh renders its rows alone).
        context["alert_counter"] = SimpleLazyObject(lambda: alert_counter(user))
    return context
