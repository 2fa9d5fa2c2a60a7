"""Signal receivers of the staff app, connected in `StaffConfig.ready()` from RECEIVERS."""

import logging

from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save

from . import services
from .models import User

logger = logging.getLogger("wardflow.staff.login")


def log_failed_login(sender, credentials, request=None, **kwargs):
    """One structured line per failed login: the user name tried, the client's address and the request id."""
    username = credentials.get("username", "")
    address = request.META.get("REMOTE_ADDR", "-") if request is not None else "-"
    request_id = getattr(request, "request_id", "-")
    logger.warning(
        "Login failed for user name %r from %s",
        username,
        address,
        extra={"attempted_username": username, "client_address": address, "request_id": request_id},
    )


def revoke_tokens_on_account_change(sender, instance, created, **kwargs):
    """A new password or a deactivated account ends every API token of the account (web sessions end through
    Django's session hash, or the inactive check). `_password` is set only by `set_password`, not by a rehash."""
    if not created and (instance._password is not None or not instance.is_active):
        services.revoke_tokens(instance)


RECEIVERS = [
    (user_login_failed, log_failed_login, None, "staff.log_failed_login"),
    (post_save, revoke_tokens_on_account_change, User, "staff.revoke_tokens"),
]
