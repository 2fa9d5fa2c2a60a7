from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from wardflow.api.fields import SlugRelatedField
from wardflow.api.serializers import ModelSerializer
from wardflow.api.views import WardflowAPIView
from wardflow.clinical_time import ward_today
from wardflow.protocol import AgeBand
from wardflow.staff.models import Role, Ward

from . import services
from .models import Patient
from .selectors import visible_patients

CLINICAL_ROLES = frozenset({Role.NURSE, Role.NEUROLOGIST})


class PatientSerializer(ModelSerializer):
    ward = SlugRelatedField(slug_field="code", queryset=Ward.objects.all())
    age_years = serializers.SerializerMethodField()
    age_band = serializers.SerializerMethodField()
    high_withdrawal_risk = serializers.BooleanField(read_only=True)
    cautions = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id", "mrn", "given_name", "family_name", "date_of_birth", "ward", "spasticity_origin", "weight_kg",
            "active_infection", "oral_antispasmodics", "renal_impairment", "sci_t6_or_above",
            "communication_difficulties", "history_of_withdrawal", "psychiatric_or_brain_disorder",
            "seizure_disorder", "autonomic_dysreflexia_history",
            "age_years", "age_band", "high_withdrawal_risk", "cautions",
        ]  # fmt: skip

    def get_age_years(self, patient) -> int:
        return patient.age_years(ward_today())

    def get_age_band(self, patient) -> AgeBand:
        return patient.age_band(ward_today())

    def get_cautions(self, patient) -> list[str]:
        return patient.cautions(ward_today())


class PatientFlagsSerializer(ModelSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, write_only=True)

    class Meta:
        model = Patient
        fields = [*services.FLAG_FIELDS, "reason"]


class PatientListCreateView(mixins.ListModelMixin, WardflowAPIView):
    allowed_roles = {"GET": CLINICAL_ROLES, "POST": CLINICAL_ROLES}
    serializer_class = PatientSerializer

    def get_queryset(self):
        return visible_patients(self.request.user)

    def get(self, request):
        return self.list(request)

    def post(self, request):
        serializer = PatientSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.register_patient(actor=request.user, **serializer.validated_data)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailView(WardflowAPIView):
    allowed_roles = {"GET": CLINICAL_ROLES, "PATCH": CLINICAL_ROLES}
    serializer_class = PatientSerializer

    def get_object(self):
        return get_object_or_404(visible_patients(self.request.user), pk=self.kwargs["pk"])

    def get(self, request, pk):
        return Response(PatientSerializer(self.get_object()).data)

    @extend_schema(request=PatientFlagsSerializer, responses=PatientSerializer)
    def patch(self, request, pk):
        patient = self.get_object()
        serializer = PatientFlagsSerializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason", "")
        # Fields the serializer does not know go to the service, which refuses them with a clear message.
        changes.update({key: request.data[key] for key in set(request.data) - set(PatientFlagsSerializer.Meta.fields)})
        patient = services.update_patient_flags(actor=request.user, patient=patient, changes=changes, reason=reason)
        return Response(PatientSerializer(patient).data)
