import csv
import json
from datetime import UTC

import django_filters
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.response import Response

from wardflow.api.views import WardflowAPIView
from wardflow.staff.models import Role

from .models import AuditEvent
from .selectors import verify_chain, visible_events

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
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["patient", "actor", "action", "since", "until"]


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


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


class AuditVerifyView(WardflowAPIView):
    allowed_roles = {"GET": {Role.ADMINISTRATOR}}

    @extend_schema(
        responses=inline_serializer(
            "AuditChainStatus",
            {
                "ok": serializers.BooleanField(),
                "events": serializers.IntegerField(required=False),
                "first_bad_event": serializers.IntegerField(required=False),
            },
        )
    )
    def get(self, request):
        report = verify_chain()
        if report.ok:
            return Response({"ok": True, "events": report.events})
        return Response({"ok": False, "first_bad_event": report.first_bad_event})
