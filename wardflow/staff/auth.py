from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """knox's token authentication (hashed, expiring tokens; header `Authorization: Token <token>`) without its
    sweep of all the user's other tokens on every API call, which costs a query per call: an expired token is
    deleted when presented, and the user's other expired ones when they get a new token (`issue_token`)."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ExpiringTokenScheme(KnoxTokenScheme):
    """The schema's description of the token header (`Authorization: Token <token>`)."""

    target_class = "wardflow.staff.auth.ExpiringTokenAuthentication"
