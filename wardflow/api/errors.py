"""The one place where domain exceptions become the contract's status codes and bodies (api.md conventions)."""

from datetime import datetime

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from wardflow.errors import (
    DomainError,
    InvalidInput,
    OutsideAllowedBand,
    RoleNotAllowed,
    SignatureRejected,
    SigningLocked,
    WorkflowConflict,
)

STATUS_BY_ERROR = {
    WorkflowConflict: status.HTTP_409_CONFLICT,
    OutsideAllowedBand: status.HTTP_422_UNPROCESSABLE_ENTITY,
    SignatureRejected: status.HTTP_403_FORBIDDEN,
    SigningLocked: status.HTTP_423_LOCKED,
    RoleNotAllowed: status.HTTP_403_FORBIDDEN,
}


def _jsonable(value):
    if isinstance(value, datetime):
        return serializers.DateTimeField().to_representation(value)
    return str(value) if not isinstance(value, str | int | bool | type(None) | list | dict) else value


def exception_handler(exc, context):
    if isinstance(exc, InvalidInput):
        body = dict(exc.errors)
        if exc.rule:
            body["rule"] = exc.rule
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        body = {"detail": exc.detail, "rule": exc.rule}
        body.update({key: _jsonable(value) for key, value in exc.extra.items()})
        code = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), status.HTTP_409_CONFLICT)
        return Response(body, status=code)
    return drf_exception_handler(exc, context)
