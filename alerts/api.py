import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from wardflow.api.filters import state_filter
from wardflow.api.serializers import ModelSerializer
from wardflow.api.views import WardflowAPIView
from wardflow.staff.models import Role

from . import services
from .models import Alert
from .selectors import visible_alerts

CLINICAL_ROLES = frozenset({Role.NURSE, Role.NEUROLOGIST})


class AlertSerializer(ModelSerializer):
    ward = serializers.SlugRelatedField(slug_field="code", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "kind", "severity", "patient", "ward", "raised_at", "due_at", "message", "rule", "state",
            "target_role", "acknowledged_by", "acknowledged_at", "escalated_at", "resolved_at",
        ]  # fmt: skip


class AlertFilter(django_filters.FilterSet):
    state = state_filter()

    class Meta:
        model = Alert
        fields = ["state"]


class AlertListView(mixins.ListModelMixin, WardflowAPIView):
    """The caller's alert inbox. `?state=open` (or several, comma-separated: `?state=open,escalated`)."""

    allowed_roles = {"GET": CLINICAL_ROLES}
    serializer_class = AlertSerializer

    filterset_class = AlertFilter

    def get_queryset(self):
        return visible_alerts(self.request.user).select_related("ward", "acknowledged_by")

    def get(self, request):
        return self.list(request)


class AlertAcknowledgeView(WardflowAPIView):
    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = AlertSerializer

    @extend_schema(request=None, responses=AlertSerializer)
    def post(self, request, pk):
        alert = get_object_or_404(visible_alerts(request.user), pk=pk)
        alert = services.acknowledge_alert(actor=request.user, alert=alert)
        return Response(AlertSerializer(alert).data)
