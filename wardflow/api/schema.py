"""The OpenAPI schema declares every status code an operation can answer, with its error body (api.md conventions):
drf-spectacular documents only the success, so the error codes are added here from what the view is."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from wardflow.api.serializers import Serializer


class ErrorSerializer(Serializer):
    detail = serializers.CharField()
    rule = serializers.CharField(required=False, allow_null=True, help_text="the protocol rule id, e.g. S3, T4")


# 400 names each field with its messages ({"field": ["message"]}, "rule" where one applies), or says what is wrong
# with the body as a whole ({"detail": "..."}).
FIELD_ERRORS = {"type": "object", "additionalProperties": True, "description": "field name -> list of messages"}

ERRORS = {
    400: OpenApiResponse(FIELD_ERRORS, description="Field validation failed, or the body is not valid JSON."),
    401: OpenApiResponse(ErrorSerializer, description="No credentials, or bad ones."),
    403: OpenApiResponse(ErrorSerializer, description="The caller's role may not do this, or the signature failed."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to the caller (another ward)."),
    409: OpenApiResponse(ErrorSerializer, description="The workflow forbids this now; `rule` names why."),
    422: OpenApiResponse(ErrorSerializer, description="A dose outside the allowed band without an override."),
    423: OpenApiResponse(ErrorSerializer, description="Signing is locked for this account."),
    429: OpenApiResponse(ErrorSerializer, description="Locked out after too many wrong passwords."),
}
WRITES = frozenset({"POST", "PUT", "PATCH"})


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code in sorted(self.error_statuses()):
            bodies.setdefault(str(code), self._get_response_for_code(ERRORS[code], str(code), direction=direction))
        return bodies

    def error_statuses(self) -> set[int]:
        """Every API call may answer 401 (a bad token, or the token exchange's wrong password); the rest follows
        from the view: a body or query filters can be invalid (400), a role or CSRF check can refuse (403), an id in
        the path or a page number may name nothing visible (404), and a write answers its view's refusals."""
        codes = {401}
        writes = self.method in WRITES
        if writes or getattr(self.view, "filterset_class", None) is not None:
            codes.add(400)
        if not any(permission is AllowAny for permission in getattr(self.view, "permission_classes", ())):
            codes.add(403)
        if "{" in self.path or self._is_list_view():
            codes.add(404)
        if writes:
            codes.update(getattr(self.view, "refusal_statuses", ()))
        return codes


def declare_csv_exports(result, generator, request, public):
    """Postprocessing hook: a list that streams CSV with `?format=csv` (the audit export) declares that answer too."""
    for operations in result.get("paths", {}).values():
        get = operations.get("get")
        if get is None or not any(p.get("name") == "format" for p in get.get("parameters", [])):
            continue
        get["responses"]["200"].setdefault("content", {})["text/csv"] = {"schema": {"type": "string"}}
    return result
