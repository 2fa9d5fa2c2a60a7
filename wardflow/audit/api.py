import csv
import json
from datetime import UTC

import django_filters
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from wardflow.api.filters import TimeFilter
from wardflow.api.views import WardflowAPIView
from wardflow.staff.models import Role

from . import services
from .models import AuditCheckpoint, AuditEvent
from .selectors import visible_events

CSV_FIELDS = [
    "id", "at", "entered_at", "actor", "role", "action", "patient", "subject_type", "subject_id",
    "before", "after", "rules", "protocol_version", "reason", "hash", "prev_hash",
]  # fmt: skip


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = CSV_FIELDS


class AuditEventFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    actor = django_filters.CharFilter(field_name="actor_username")
    action = django_filters.CharFilter(field_name="action")
    since = TimeFilter(field_name="at", lookup_expr="gte")
    until = TimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["patient", "actor", "action", "since", "until"]


class _Echo:
    def write(self, value):
        return value


# OWASP CSV injection: a cell a spreadsheet would read as a formula (or that hides one behind a tab or CR) is
# prefixed with a single quote, so free text (reasons, names) exports as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_FIELDS)
    # Streamed after the view returned: the rows keep the API's UTC times.
    with timezone.override(UTC):
        for event in events.iterator(chunk_size=2000):
            row = AuditEventSerializer(event).data
            yield writer.writerow([_cell(row[field]) for field in CSV_FIELDS])


class AuditEventListView(mixins.ListModelMixin, WardflowAPIView):
    """The audit trail, newest first. `?format=csv` streams every matching event (not only one page)."""

    allowed_roles = {"GET": {Role.ADMINISTRATOR, Role.NEUROLOGIST}}
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return visible_events(self.request.user)

    @extend_schema(parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])])
    def get(self, request):
        if request.query_params.get("format") == "csv":
            events = self.filter_queryset(self.get_queryset())
            response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="wardflow-audit.csv"'
            return response
        return self.list(request)


class CheckpointStatusSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)
    ok = serializers.BooleanField()


class AuditVerifyView(WardflowAPIView):
    """Verifies the chain against the newest signed checkpoint (D2, D3); `?full=1` re-hashes the whole chain. The
    outcome is kept: the audit page shows it."""

    allowed_roles = {"GET": {Role.ADMINISTRATOR}}

    @extend_schema(
        parameters=[OpenApiParameter("full", OpenApiTypes.BOOL)],
        responses=inline_serializer(
            "AuditChainStatus",
            {
                "ok": serializers.BooleanField(),
                "events": serializers.IntegerField(required=False),
                "first_bad_event": serializers.IntegerField(required=False, allow_null=True),
                "problem": serializers.CharField(required=False),
                "checkpoint": CheckpointStatusSerializer(allow_null=True),
            },
        ),
    )
    def get(self, request):
        result = services.verify(full=request.query_params.get("full") in {"1", "true"})
        checkpoint = (
            None
            if result.checkpoint_ok is None
            else {
                "sequence": result.checkpoint_sequence,
                "events": result.checkpoint_events,
                "ok": result.checkpoint_ok,
            }
        )
        if result.ok:
            return Response({"ok": True, "events": result.events, "checkpoint": checkpoint})
        return Response(
            {
                "ok": False,
                "first_bad_event": result.first_bad_event,
                "problem": result.problem,
                "checkpoint": checkpoint,
            }
        )


class AuditCheckpointSerializer(serializers.ModelSerializer):
    taken_by = serializers.CharField(source="taken_by.username", default=None, read_only=True)

    class Meta:
        model = AuditCheckpoint
        fields = ["id", "taken_at", "taken_by", "sequence", "events", "head_hash", "key_id", "signature"]


class AuditCheckpointListView(mixins.ListModelMixin, WardflowAPIView):
    """Signed checkpoints of the chain (D3), newest first. POST takes one now (after verifying the chain; 409 with
    rule D3 when it does not verify)."""

    allowed_roles = {"GET": {Role.ADMINISTRATOR}, "POST": {Role.ADMINISTRATOR}}
    serializer_class = AuditCheckpointSerializer
    queryset = AuditCheckpoint.objects.select_related("taken_by")

    def get(self, request):
        return self.list(request)

    @extend_schema(request=None, responses={201: AuditCheckpointSerializer})
    def post(self, request):
        checkpoint = services.take_checkpoint(by=request.user)
        return Response(AuditCheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)
