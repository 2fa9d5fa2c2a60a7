"""Domain exceptions. Each carries the protocol rule id it enforces; one API handler maps them to status codes."""

from decimal import Decimal


class DomainError(Exception):
    """Base of every refusal a service can make. `rule` cites protocol.md (or a contract convention)."""

    rule: str | None = None

    def __init__(self, detail: str, *, rule: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        if rule is not None:
            self.rule = rule
        self.extra = extra


class WorkflowConflict(DomainError):
    """The workflow forbids this now (HTTP 409)."""


class OutsideAllowedBand(DomainError):
    """A dose outside the allowed band without an override (HTTP 422). T4: the allowed range it states is rounded
    inwards to 0.01 mcg (minimum up, maximum down), so that each figure is itself accepted."""

    def __init__(self, detail: str, *, rule: str, allowed_min_mcg: Decimal, allowed_max_mcg: Decimal, **extra):
        super().__init__(detail, rule=rule, allowed_min_mcg=allowed_min_mcg, allowed_max_mcg=allowed_max_mcg, **extra)


class InvalidInput(DomainError):
    """Field-level validation a service performs itself (HTTP 400, `{"field": ["message"]}`)."""

    def __init__(self, errors: dict[str, list[str]], *, rule: str | None = None):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), rule=rule)
        self.errors = errors


class RoleNotAllowed(DomainError):
    """The caller's role may not do this to this record (HTTP 403), e.g. a nurse acknowledging an urgent alert."""


class SignatureRejected(DomainError):
    """An electronic signature (re-entered password) that does not match (HTTP 403)."""


class SigningLocked(DomainError):
    """D5: the signer's signing is locked after repeated failed signatures (HTTP 423)."""
