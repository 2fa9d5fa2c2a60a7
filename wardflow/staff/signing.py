"""D5 (21 CFR 11.200(a)(1)): whether the signer has given user name and password at a signature in this login
session. The session is the API token the request came with, else the web session (a new one at each login)."""

from django.utils import timezone
from knox.models import AuthToken

from wardflow.compiled import CompiledRead

from .models import SigningSession

SESSION_KEY = "wardflow_signer_identified"


def _token(request) -> AuthToken | None:
    token = getattr(request, "auth", None)
    return token if isinstance(token, AuthToken) else None


# Every signature sends it: compiled once.
_SIGNING_SESSION = CompiledRead(
    lambda token: SigningSession.objects.filter(token=token).values_list("pk")[:1], placeholders=("<token digest>",)
)


def signer_identified(request) -> bool:
    if (token := _token(request)) is not None:
        return bool(_SIGNING_SESSION.rows(token.pk))
    return bool(request.session.get(SESSION_KEY))


def mark_signer_identified(request) -> None:
    """After a signature that gave user name and password: later ones in this session may give the password."""
    if (token := _token(request)) is not None:
        SigningSession.objects.get_or_create(token=token, defaults={"identified_at": timezone.now()})
    else:
        request.session[SESSION_KEY] = True
