import binascii
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from wardflow.compiled import CompiledRead, columns

from .models import Ward


def _token_query(key_placeholder) -> QuerySet:
    token_model = get_token_model()
    return (
        token_model.objects.filter(token_key=key_placeholder)
        .annotate(
            user_group_names=ArraySubquery(Group.objects.filter(user=OuterRef("user_id")).values("name")),
            user_ward_ids=ArraySubquery(Ward.objects.filter(staff=OuterRef("user_id")).values("id")),
        )
        .values_list(
            *columns(token_model),
            *(f"user__{name}" for name in columns(get_user_model())),
            "user_group_names",
            "user_ward_ids",
        )
    )


# The token, its user, the user's role and wards in one statement, compiled once: every API call sends it. The
# placeholder is a value no token key takes (keys are hex).
_TOKENS = CompiledRead(_token_query, placeholders=("<token key>",))


def _tokens_with_key(token_key: str):
    """The tokens stored under this key (its first characters), each with its user, who knows their role and wards."""
    token_model, user_model = get_token_model(), get_user_model()
    token_fields, user_fields = columns(token_model), columns(user_model)
    user_start, user_end = len(token_fields), len(token_fields) + len(user_fields)
    for row in _TOKENS.rows(token_key):
        auth_token = token_model.from_db(connection.alias, token_fields, row[:user_start])
        user = user_model.from_db(connection.alias, user_fields, row[user_start:user_end])
        user.know_access(group_names=row[user_end], ward_ids=row[user_end + 1])
        auth_token.user = user
        yield auth_token


class ExpiringTokenAuthentication(TokenAuthentication):
    """knox's token authentication (hashed, expiring tokens; header `Authorization: Token <token>`) without its
    sweep of all the user's other tokens on every API call, which costs a query per call: an expired token is
    deleted when presented, and the user's other expired ones when they get a new token (`issue_token`).

    The token, its user, the user's role and wards come in one query (`_TOKENS`): every API call needs all four
    (the role check, the ward scope), and reading them one by one cost three round trips more per call."""

    def authenticate_credentials(self, token):
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        for auth_token in _tokens_with_key(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error) as exc:
                raise exceptions.AuthenticationFailed(msg) from exc
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
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
