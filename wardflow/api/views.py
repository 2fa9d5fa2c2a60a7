from datetime import UTC

from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.defaults import page_not_found
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from wardflow.ops import idempotency

from .permissions import RoleAllowed


class WardflowAPIView(GenericAPIView):
    """Base of every API view: role check per method (`allowed_roles`) and idempotent POSTs."""

    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles: dict[str, frozenset] = {}
    # Domain refusals a write of this view can answer besides 400/403/404 (declared in the schema, wardflow.api.schema).
    refusal_statuses: frozenset[int] = frozenset({409})
    _idempotency_record = None

    def dispatch(self, request, *args, **kwargs):
        # The API speaks UTC (ISO 8601 with offset) in and out; the ward's local time is for the web pages.
        with timezone.override(UTC):
            if request.method == "POST" and request.headers.get(idempotency.HEADER):
                # The key's claim, the clinical change and the stored response commit together.
                with transaction.atomic():
                    response = super().dispatch(request, *args, **kwargs)
            else:
                response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(idempotency.HEADER)
        if request.method == "POST" and key:
            self._idempotency_record = idempotency.claim(
                user=request.user,
                key=key,
                fingerprint=idempotency.request_fingerprint(request.method, request.path, request.data),
            )

    def validated(self, serializer_class=None) -> dict:
        """The request body translated by the view's input serializer (400 with the field errors otherwise)."""
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            response = Response(exc.record.response_body, status=exc.record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        if self._idempotency_record is not None:
            idempotency.complete(self._idempotency_record, status=response.status_code, body=response.data)
            self._idempotency_record = None
        return super().finalize_response(request, response, *args, **kwargs)


def not_found(request, exception):
    """handler404: a path under /api/ that matches no route answers the API's JSON 404, not the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
