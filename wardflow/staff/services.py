import logging

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from wardflow.audit.services import record_event
from wardflow.clinical_time import ward_local
from wardflow.compiled import LockedRow
from wardflow.errors import InvalidInput, SignatureRejected, SigningLocked
from wardflow.policy import current_policy

from .kinds import AuditAction
from .models import Role, User, Ward
from .selectors import administrator_emails, recent_signature_failures, signing_locked_until

logger = logging.getLogger(__name__)


@transaction.atomic
def create_ward(*, actor, code: str, name: str) -> Ward:
    ward = Ward.objects.create(code=code, name=name)
    record_event(actor=actor, action=AuditAction.WARD_CREATED, subject=ward, after={"code": code, "name": name})
    return ward


@transaction.atomic
def add_staff(*, actor, username: str, role: Role, password: str, ward_codes=(), **names) -> User:
    """Create a staff account with exactly one role and its wards; weak passwords are refused."""
    if User.objects.filter(username=username).exists():
        raise InvalidInput({"username": [f"A user named {username!r} already exists."]})
    wards = list(Ward.objects.filter(code__in=ward_codes))
    missing = sorted(set(ward_codes) - {w.code for w in wards})
    if missing:
        raise InvalidInput({"ward": [f"No ward with code {', '.join(missing)}."]})
    user = User(username=username, **names)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    user.wards.set(wards)
    record_event(
        actor=actor,
        action=AuditAction.STAFF_ADDED,
        subject=user,
        after={"username": username, "role": role, "wards": sorted(w.code for w in wards)},
    )
    return user


def issue_token(user) -> str:
    """A new API token; only its hash is stored (knox), so the token itself is shown this once."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    _, token = AuthToken.objects.create(user=user)
    return token


@transaction.atomic
def rotate_token(token: AuthToken) -> str:
    """Replace the token in use by a new one with a fresh lifetime; the old one stops working at once."""
    user = token.user
    token.delete()
    return issue_token(user)


def revoke_token(token: AuthToken) -> None:
    token.delete()


def revoke_tokens(user) -> None:
    AuthToken.objects.filter(user=user).delete()


def _tell_administrators(signer, locked_until) -> None:
    """D5 (21 CFR 11.300(d)): administrators hear of a signing lock by e-mail; the audit trail has the event."""
    recipients = administrator_emails()
    if not recipients:
        logger.error("D5: signing of %s locked; no administrator has an e-mail address", signer.username)
        return
    message = (
        f"{signer.display_name()} ({signer.username}) entered a wrong signature password or user name too often. "
        f"Their signing is locked until {ward_local(locked_until):%Y-%m-%d %H:%M %Z} (D5). "
        "Check with them that it was them, and review the audit log."
    )
    try:
        send_mail(f"WardFlow: signing locked for {signer.username}", message, None, recipients)
    except OSError:  # SMTP errors are OSErrors; the lock and its audit event stand without the mail
        logger.exception("D5: the signing-lock e-mail about %s could not be sent", signer.username)


def _record_failed_signature(signer, *, failed: str, now, patient, subject) -> SignatureRejected | SigningLocked:
    policy = current_policy()
    record_event(actor=signer, action=AuditAction.SIGNATURE_FAILED, at=now, patient=patient, subject=subject,
                 after={"failed": failed}, rules=["D5"])  # fmt: skip
    failures = recent_signature_failures(signer, now, policy)
    if failures < policy.signature_failure_limit:
        return SignatureRejected(f"D5: the {failed} does not match; nothing was signed.", rule="D5")
    record_event(actor=signer, action=AuditAction.SIGNING_LOCKED, at=now, subject=signer,
                 after={"failures": failures, "lock_minutes": policy.signature_lock_minutes}, rules=["D5"])  # fmt: skip
    locked_until = signing_locked_until(signer, now, policy)
    transaction.on_commit(lambda: _tell_administrators(signer, locked_until))
    return SigningLocked(_locked_message(locked_until), rule="D5", locked_until=locked_until)


def _locked_message(locked_until) -> str:
    return (
        f"D5: too many failed signatures; your signing is locked until {ward_local(locked_until):%H:%M}. "
        "The administrators have been told."
    )


_SIGNER_LOCK = LockedRow(User)  # every signature takes it: compiled once


def verify_signature(
    *, signer, password: str, username: str = "", first_of_session: bool = False, patient=None, subject=None
) -> None:
    """D5 (21 CFR 11.200, 11.300(d)): the first signature of a login session gives user name and password, later
    ones at least the password (callers without a login session, such as demo seeding, sign as later ones). A
    failure is audited in its own transaction, so that it stays on record while the signed act is refused; too many
    lock the signer's signing. The password is checked directly, not through the login lockout: signing has its own
    count."""
    if first_of_session and not username:
        raise InvalidInput({"username": ["D5: the first signature of a session also needs your user name."]}, rule="D5")
    with transaction.atomic():
        _SIGNER_LOCK.get(signer.pk)  # one signer's attempts are counted one at a time
        now = timezone.now()
        if locked_until := signing_locked_until(signer, now, current_policy()):
            refusal = SigningLocked(_locked_message(locked_until), rule="D5", locked_until=locked_until)
        elif username and username != signer.username:
            refusal = _record_failed_signature(signer, failed="user name", now=now, patient=patient, subject=subject)
        elif not signer.check_password(password):
            refusal = _record_failed_signature(signer, failed="password", now=now, patient=patient, subject=subject)
        else:
            return
    raise refusal
