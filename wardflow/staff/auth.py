import binascii
from hmac import compare_digest

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from .models import Ward


class ExpiringTokenAuthentication(TokenAuthentication):
    """knox's token authentication (hashed, expiring tokens; header `Authorization: Token <token>`) without its
    sweep of all the user's other tokens on every API call, which costs a query per call: an expired token is
    deleted when presented, and the user's other expired ones when they get a new token (`issue_token`).

    The token, its user, the user's role and wards come in one query: every API call needs all four (the role
    check, the ward scope), and reading them one by one cost three round trips more per call."""

    def authenticate_credentials(self, token):
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        candidates = (
            get_token_model()
            .objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user")
            .annotate(
                user_group_names=ArraySubquery(Group.objects.filter(user=OuterRef("user_id")).values("name")),
                user_ward_ids=ArraySubquery(Ward.objects.filter(staff=OuterRef("user_id")).values("id")),
            )
        )
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error) as exc:
                raise exceptions.AuthenticationFailed(msg) from exc
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                auth_token.user.know_access(group_names=auth_token.user_group_names, ward_ids=auth_token.user_ward_ids)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ExpiringTokenScheme(KnoxTokenScheme):
    """The schema's description of the token header (`Authorization: Token <token>`)."""

    target_class = "wardflow.staff.auth.ExpiringTokenAuthentication"
