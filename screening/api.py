import django_filters
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from wardflow import protocol
from wardflow.api.entries import ENTERED_IN_ERROR_FIELDS, EnteredInErrorSerializer
from wardflow.api.entries import EnteredInErrorReasonSerializer as CorrectionSerializer
from wardflow.api.fields import MAX_INTEGER, AwareDateTimeField
from wardflow.api.filters import state_filter, ward_filter
from wardflow.api.serializers import ModelSerializer, Serializer
from wardflow.api.views import WardflowAPIView
from wardflow.clinical_time import ward_today
from wardflow.patients.selectors import patient_to_act_on, visible_patients
from wardflow.staff.models import Role

from . import selectors, services
from .models import Assessment, Observation, ScreeningTrial, TestDose

CLINICAL_ROLES = frozenset({Role.NURSE, Role.NEUROLOGIST})
NEUROLOGIST = frozenset({Role.NEUROLOGIST})
DOSE = {"max_digits": 6, "decimal_places": 1}
TIME = serializers.DateTimeField()


class AssessmentSerializer(ModelSerializer):
    assessed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Assessment
        fields = ["id", "response", "duration_hours", "suggested_response", "suggestion_reason", "assessed_at",
                  "assessed_by", "note"]  # fmt: skip


class TestDoseSerializer(EnteredInErrorSerializer, ModelSerializer):
    observations_due = serializers.SerializerMethodField()
    assessment = serializers.SerializerMethodField()
    given_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TestDose
        fields = ["id", "number", "dose_mcg", "volume_ml", "administered_at", "entered_at", "lot", "route",
                  "injection_seconds", "resuscitation_ready", "given_by", "observations_due", "assessment",
                  *ENTERED_IN_ERROR_FIELDS]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.DateTimeField()))
    def get_observations_due(self, dose) -> list[str]:
        return [TIME.to_representation(t) for t in selectors.observations_due(dose)]

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_assessment(self, dose) -> dict | None:
        try:
            return AssessmentSerializer(dose.assessment).data
        except Assessment.DoesNotExist:
            return None


class SuggestionSerializer(Serializer):
    response = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class TrialSerializer(Serializer):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    state = serializers.CharField()
    first_dose_mcg = serializers.DecimalField(**DOSE)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    status_reason = serializers.CharField()
    next_dose_number = serializers.SerializerMethodField()
    next_dose_mcg = serializers.SerializerMethodField()
    next_dose_due_at = serializers.SerializerMethodField()
    doses = TestDoseSerializer(many=True)
    suggestion = serializers.SerializerMethodField()
    cautions = serializers.SerializerMethodField()

    def get_next_dose_number(self, trial) -> int | None:
        return selectors.next_dose(trial)[0]

    def get_next_dose_mcg(self, trial) -> str | None:
        mcg = selectors.next_dose(trial)[1]
        return None if mcg is None else serializers.DecimalField(**DOSE).to_representation(mcg)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_dose_due_at(self, trial) -> str | None:
        due = selectors.next_dose(trial)[2]
        return None if due is None else TIME.to_representation(due)

    @extend_schema_field(SuggestionSerializer(allow_null=True))
    def get_suggestion(self, trial) -> dict | None:
        suggestion = selectors.current_suggestion(trial)
        return None if suggestion is None else {"response": suggestion.response, "reason": suggestion.reason}

    def get_cautions(self, trial) -> list[str]:
        return trial.patient.cautions(ward_today())


class OpenTrialSerializer(Serializer):
    first_dose_mcg = serializers.DecimalField(required=False, **DOSE)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class GiveDoseSerializer(Serializer):
    administered_at = AwareDateTimeField()
    dose_mcg = serializers.DecimalField(**DOSE)
    volume_ml = serializers.DecimalField(max_digits=5, decimal_places=2)
    lot = serializers.CharField(max_length=60)
    route = serializers.ChoiceField(choices=[r.value for r in protocol.Route])
    injection_seconds = serializers.IntegerField(min_value=0, max_value=MAX_INTEGER)
    resuscitation_ready = serializers.BooleanField()
    # V2: a neurologist's reason to give the dose although the pre-dose check refuses it.
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class News2Serializer(Serializer):
    score = serializers.IntegerField()
    risk = serializers.ChoiceField(choices=[r.value for r in protocol.News2Risk])
    parameters = serializers.DictField(child=serializers.IntegerField())


class ObservationSerializer(EnteredInErrorSerializer, ModelSerializer):
    observed_at = AwareDateTimeField()
    sedation = serializers.ChoiceField(choices=[s.value for s in protocol.Sedation])
    signs = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    on_oxygen = serializers.BooleanField(required=False, default=False)  # V1
    # A1: why an observation is charted late (optional).
    late_reason = serializers.CharField(required=False, allow_blank=True, default="")
    news2 = serializers.SerializerMethodField()
    charted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Observation
        fields = ["id", "patient", "trial", "observed_at", "entered_at", "ashworth_mean", "penn_spasm_frequency",
                  "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2", "temperature_c",
                  "sedation", "signs", "on_oxygen", "late_reason", "news2", "charted_by",
                  *ENTERED_IN_ERROR_FIELDS]  # fmt: skip
        read_only_fields = ["id", "patient", "trial", "entered_at", "charted_by"]

    @extend_schema_field(News2Serializer)
    def get_news2(self, observation) -> dict:
        """V1: the score, its risk and each parameter's score, as computed when charted."""
        return selectors.observation_news2(observation).as_dict()


class AssessSerializer(Serializer):
    response = serializers.ChoiceField(choices=[r.value for r in protocol.Response])
    # S8: the act itself refuses 0 h or less, citing the rule.
    duration_hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False)
    assessed_at = AwareDateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(Serializer):
    reason = serializers.CharField()


def _trial_response(trial, status_code=status.HTTP_200_OK):
    return Response(TrialSerializer(selectors.trial_with_details(trial.pk)).data, status=status_code)


class TrialOpenView(WardflowAPIView):
    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = OpenTrialSerializer

    @extend_schema(request=OpenTrialSerializer, responses={201: TrialSerializer})
    def post(self, request, pk):
        patient = get_object_or_404(visible_patients(request.user), pk=pk)
        trial = services.open_trial(actor=request.user, patient=patient, **self.validated())
        return _trial_response(trial, status.HTTP_201_CREATED)


class TrialFilter(django_filters.FilterSet):
    state = state_filter()
    ward = ward_filter("patient__ward__code")

    class Meta:
        model = ScreeningTrial
        fields = ["state", "ward"]


class TrialListView(mixins.ListModelMixin, WardflowAPIView):
    """Trials on the caller's wards; `?state=awaiting_dose,observing` and `?ward=CODE` narrow the list."""

    allowed_roles = {"GET": CLINICAL_ROLES}
    serializer_class = TrialSerializer

    filterset_class = TrialFilter

    def get_queryset(self):
        return selectors.visible_trials(self.request.user)

    def get(self, request):
        return self.list(request)


class TrialDetailView(WardflowAPIView):
    allowed_roles = {"GET": CLINICAL_ROLES}
    serializer_class = TrialSerializer

    def get(self, request, pk):
        return Response(TrialSerializer(get_object_or_404(selectors.visible_trials(request.user), pk=pk)).data)


class _TrialActView(WardflowAPIView):
    def trial(self, request, pk):
        if (trial := selectors.trial_to_act_on(request.user, pk)) is None:
            raise Http404
        return trial


class GiveDoseView(_TrialActView):
    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = GiveDoseSerializer

    @extend_schema(request=GiveDoseSerializer, responses={201: TestDoseSerializer})
    def post(self, request, pk):
        trial = self.trial(request, pk)
        dose = services.give_test_dose(actor=request.user, trial=trial, **self.validated())
        return Response(TestDoseSerializer(dose).data, status=status.HTTP_201_CREATED)


class ChartObservationView(_TrialActView):
    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = ObservationSerializer

    @extend_schema(request=ObservationSerializer, responses={201: ObservationSerializer})
    def post(self, request, pk):
        trial = self.trial(request, pk)
        observation = services.chart_observation(
            actor=request.user, patient=trial.patient, trial=trial, **self.validated()
        )
        return Response(ObservationSerializer(observation).data, status=status.HTTP_201_CREATED)


class AssessResponseView(_TrialActView):
    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = AssessSerializer

    @extend_schema(request=AssessSerializer, responses={201: AssessmentSerializer})
    def post(self, request, pk):
        dose = get_object_or_404(selectors.visible_test_doses(request.user), pk=pk)
        assessment = services.assess_response(actor=request.user, test_dose=dose, **self.validated())
        return Response(AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)


def _reasoned_act(act):
    class ReasonedActView(_TrialActView):
        allowed_roles = {"POST": NEUROLOGIST}
        serializer_class = ReasonSerializer

        @extend_schema(request=ReasonSerializer, responses=TrialSerializer)
        def post(self, request, pk):
            trial = act(actor=request.user, trial=self.trial(request, pk), **self.validated())
            return _trial_response(trial)

    ReasonedActView.__name__ = ReasonedActView.__qualname__ = f"{act.__name__.title().replace('_', '')}View"
    return ReasonedActView


SuspendTrialView = _reasoned_act(services.suspend_trial)
ResumeTrialView = _reasoned_act(services.resume_trial)
CancelTrialView = _reasoned_act(services.cancel_trial)


class PatientObservationView(WardflowAPIView):
    """Observations charted on the patient: the service files them under the patient's open or suspended trial, if
    any (S10); for implanted patients W1/O1 signs raise urgent alerts."""

    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = ObservationSerializer

    @extend_schema(request=ObservationSerializer, responses={201: ObservationSerializer})
    def post(self, request, pk):
        if (patient := patient_to_act_on(request.user, pk)) is None:
            raise Http404
        observation = services.chart_observation(actor=request.user, patient=patient, **self.validated())
        return Response(ObservationSerializer(observation).data, status=status.HTTP_201_CREATED)


class ObservationEnteredInErrorView(WardflowAPIView):
    """D4: the observation stays, flagged; it no longer counts for the assessment window (S6, S7) nor as the latest
    NEWS2 (V1). Another ward's observation answers 404."""

    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = CorrectionSerializer

    @extend_schema(request=CorrectionSerializer, responses=ObservationSerializer)
    def post(self, request, pk):
        observation = get_object_or_404(selectors.visible_observations(request.user), pk=pk)
        observation = services.mark_observation_entered_in_error(
            actor=request.user, observation=observation, **self.validated()
        )
        return Response(ObservationSerializer(observation).data)


class TestDoseEnteredInErrorView(WardflowAPIView):
    """D4: the dose stays, flagged; it frees its rung and the 24 h spacing (S1, S3). An assessed dose answers 409
    until its assessment is corrected. Another ward's dose answers 404."""

    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = CorrectionSerializer

    @extend_schema(request=CorrectionSerializer, responses=TestDoseSerializer)
    def post(self, request, pk):
        dose = get_object_or_404(selectors.visible_test_doses(request.user), pk=pk)
        dose = services.mark_test_dose_entered_in_error(actor=request.user, test_dose=dose, **self.validated())
        return Response(TestDoseSerializer(dose).data)
