from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import django_filters
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from screening.models import ScreeningTrial
from screening.selectors import visible_trials
from wardflow import protocol
from wardflow.api.entries import ENTERED_IN_ERROR_FIELDS, EnteredInErrorSerializer
from wardflow.api.entries import EnteredInErrorReasonSerializer as CorrectionSerializer
from wardflow.api.fields import AwareDateTimeField, VisibleRelatedField
from wardflow.api.filters import ward_filter
from wardflow.api.serializers import ModelSerializer, Serializer
from wardflow.api.views import WardflowAPIView
from wardflow.patients.selectors import visible_patients
from wardflow.staff.models import Role, SignatureMeaning
from wardflow.staff.signing import mark_signer_identified, signer_identified

from . import selectors, services
from .models import DoseChange, Pump, Refill

CLINICAL_ROLES = frozenset({Role.NURSE, Role.NEUROLOGIST})
NEUROLOGIST = frozenset({Role.NEUROLOGIST})
NURSE = frozenset({Role.NURSE})
DOSE = {"max_digits": 8, "decimal_places": 2}
VOLUME = {"max_digits": 6, "decimal_places": 2, "min_value": Decimal("0")}
STRENGTH = {"max_digits": 7, "decimal_places": 1, "min_value": Decimal("0.1")}
# Figures are exact Decimals end to end; they are rounded here, for display only.
ROUNDING = {
    "rate_ml_per_day": "3 decimals, half-even",
    "current_volume_ml": "2 decimals, half-even",
    "days_to_alarm": "1 decimal, rounded down (never overstates the time left)",
    "percent_change": "1 decimal, half-even",
    "segments.rate_mcg_per_hour": "3 decimals, half-even",
}


def shown(value: Decimal | None, places: str, rounding=ROUND_HALF_EVEN) -> str | None:
    return None if value is None else str(value.quantize(Decimal(places), rounding=rounding))


class SegmentSerializer(Serializer):
    start = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$", help_text="HH:MM, local time of day")
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=Decimal("0.1"))


# T12: what a change's approval fixed (and what it says about it, the signature's meaning included): never shown to
# the clinician who reads it back.
APPROVED_VALUES = (
    "new_daily_dose_mcg", "percent_change", "segments", "notices", "warnings", "reason", "override_reason",
    "signature_meaning", "concentration_mcg_per_ml", "concentration_transition", "transition",
)  # fmt: skip


class TransitionSerializer(Serializer):
    """T15: how long the old strength left in the dead space runs at the new rate, and the daily dose meanwhile
    (hours to 0.1 h, mcg/day to 0.01, half-even); `warning` when more than 20 % (policy) off the intended dose."""

    hours = serializers.DecimalField(max_digits=12, decimal_places=1)
    daily_dose_mcg_during = serializers.DecimalField(max_digits=12, decimal_places=2)
    warning = serializers.CharField(allow_null=True)


def transition_body(change: DoseChange) -> dict | None:
    """T15: a concentration change's transition as the API shows it; None for any other change."""
    if not change.concentration_transition:
        return None
    return {key: change.concentration_transition[key] for key in ("hours", "daily_dose_mcg_during", "warning")}


class BandSerializer(Serializer):
    min_percent = serializers.DecimalField(max_digits=5, decimal_places=1)
    max_percent = serializers.DecimalField(max_digits=5, decimal_places=1)


class DoseChangeSerializer(ModelSerializer):
    percent_change = serializers.SerializerMethodField()
    allowed_band = serializers.SerializerMethodField()
    concentration_transition = serializers.SerializerMethodField()
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    programmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    read_back_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    rejected_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = DoseChange
        fields = [
            "id", "pump", "kind", "new_daily_dose_mcg", "previous_daily_dose_mcg", "state", "percent_change",
            "allowed_band", "notices", "warnings", "earliest_at", "segments", "reason", "override_reason",
            "serious_adverse_reaction", "proposed_by", "proposed_at", "approved_by", "approved_at",
            "signature_meaning", "warnings_acknowledged", "rejected_by", "rejected_at", "rejection_reason",
            "programmed_by", "programmed_at", "read_back_by", "read_back_at", "superseded_at", "refill",
            "concentration_mcg_per_ml", "concentration_transition",
        ]  # fmt: skip

    def to_representation(self, change):
        data = super().to_representation(change)
        request = self.context.get("request")
        # T12: a change waiting for its independent read-back shows no approved value to whoever might read it back.
        if selectors.approved_values_hidden(getattr(request, "user", None), change):
            data.update({field: None for field in APPROVED_VALUES if field in data})
        return data

    def get_percent_change(self, change) -> str | None:
        return shown(change.percent_change, "0.1")

    @extend_schema_field(TransitionSerializer(allow_null=True))
    def get_concentration_transition(self, change) -> dict | None:
        return transition_body(change)

    @extend_schema_field(BandSerializer(allow_null=True))
    def get_allowed_band(self, change) -> dict | None:
        if change.band_min_percent is None:
            return None
        return {
            "min_percent": shown(change.band_min_percent, "0.1"),
            "max_percent": shown(change.band_max_percent, "0.1"),
        }


class RefillRecordSerializer(EnteredInErrorSerializer, ModelSerializer):
    """A refill as recorded (R5); one entered in error stays, flagged (D4)."""

    refilled_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Refill
        fields = ["id", "pump", "refilled_at", "entered_at", "volume_removed_ml", "volume_added_ml",
                  "concentration_mcg_per_ml", "lot", "expected_residual_ml", "septum_access_confirmed",
                  "aseptic_technique", "refilled_by", *ENTERED_IN_ERROR_FIELDS]  # fmt: skip


class PumpSerializer(Serializer):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    screening_trial = serializers.IntegerField(source="screening_trial_id", allow_null=True)
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True, help_text="T13: the pump it replaced")
    in_place = serializers.BooleanField()
    implanted_at = serializers.DateTimeField()
    explanted_at = serializers.DateTimeField(allow_null=True)
    explant_reason = serializers.CharField()
    explanted_by = serializers.CharField(source="explanted_by.username", allow_null=True, read_only=True)
    elective_replacement_at = serializers.DateField(allow_null=True)
    dead_space_ml = serializers.DecimalField(allow_null=True, **VOLUME)
    model = serializers.CharField()
    serial = serializers.CharField()
    reservoir_ml = serializers.DecimalField(**VOLUME)
    alarm_ml = serializers.DecimalField(**VOLUME)
    concentration_mcg_per_ml = serializers.DecimalField(**STRENGTH)
    dilution_note = serializers.CharField()
    phase = serializers.CharField()
    filled_at = serializers.DateTimeField()
    daily_dose_mcg = serializers.SerializerMethodField()
    rate_ml_per_day = serializers.SerializerMethodField()
    current_volume_ml = serializers.SerializerMethodField()
    alarm_at = serializers.DateTimeField()
    refill_due_at = serializers.DateTimeField()
    days_to_alarm = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField()
    dose_changes = DoseChangeSerializer(many=True)
    refills = RefillRecordSerializer(many=True, help_text="Newest first; those entered in error flagged (D4)")
    rounding = serializers.SerializerMethodField()

    def get_daily_dose_mcg(self, pump) -> str | None:
        return None if pump.active_change is None else str(pump.active_change.new_daily_dose_mcg)

    def get_rate_ml_per_day(self, pump) -> str | None:
        if pump.active_change is None:
            return None
        rate = protocol.rate_ml_per_day(pump.active_change.new_daily_dose_mcg, pump.concentration_mcg_per_ml)
        return shown(rate, "0.001")

    def get_current_volume_ml(self, pump) -> str | None:
        periods = selectors.program_periods(pump, pump.dose_changes.all())  # read once with the history
        return shown(selectors.estimated_volume(pump, timezone.now(), periods), "0.01")

    def get_days_to_alarm(self, pump) -> str | None:
        return shown(selectors.days_to_alarm(pump, timezone.now()), "0.1", ROUND_DOWN)

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_segments(self, pump) -> list[dict]:
        active = pump.active_change
        if active is None:
            return []
        program = selectors.parse_segments(active.segments)
        rates = protocol.segment_rates_mcg_per_hour(active.new_daily_dose_mcg, program)
        return [
            {"start": f"{s.start_minute // 60:02d}:{s.start_minute % 60:02d}", "percent": str(s.percent),
             "rate_mcg_per_hour": shown(rate, "0.001")}
            for s, rate in zip(program, rates, strict=True)
        ]  # fmt: skip

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_rounding(self, pump) -> dict:
        return ROUNDING


class RegistrySerializer(Serializer):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    mrn = serializers.CharField(source="patient.mrn")
    patient_name = serializers.SerializerMethodField()
    ward = serializers.CharField(source="patient.ward.code")
    phase = serializers.CharField()
    daily_dose_mcg = serializers.SerializerMethodField()
    alarm_at = serializers.DateTimeField()
    refill_due_at = serializers.DateTimeField()
    days_to_alarm = serializers.SerializerMethodField()
    high_withdrawal_risk = serializers.BooleanField(source="patient.high_withdrawal_risk")

    def get_patient_name(self, pump) -> str:
        return f"{pump.patient.family_name}, {pump.patient.given_name}"

    get_daily_dose_mcg = PumpSerializer.get_daily_dose_mcg
    get_days_to_alarm = PumpSerializer.get_days_to_alarm


class ImplantSerializer(Serializer):
    implanted_at = AwareDateTimeField()
    model = serializers.CharField(max_length=100)
    serial = serializers.CharField(max_length=60)
    reservoir_ml = serializers.DecimalField(**VOLUME)
    alarm_ml = serializers.DecimalField(required=False, **VOLUME)
    concentration_mcg_per_ml = serializers.DecimalField(**STRENGTH)
    initial_volume_ml = serializers.DecimalField(**VOLUME)
    screening_trial = VisibleRelatedField(ScreeningTrial, visible=visible_trials)
    dilution_note = serializers.CharField(required=False, allow_blank=True, default="")
    dead_space_ml = serializers.DecimalField(required=False, allow_null=True, help_text="T15", **VOLUME)
    elective_replacement_at = serializers.DateField(required=False, allow_null=True, help_text="T13: battery end")


class ExplantSerializer(Serializer):
    explanted_at = AwareDateTimeField()
    reason = serializers.CharField()


class ReplaceSerializer(Serializer):
    replaced_at = AwareDateTimeField()
    reason = serializers.CharField()
    model = serializers.CharField(max_length=100)
    serial = serializers.CharField(max_length=60)
    reservoir_ml = serializers.DecimalField(**VOLUME)
    alarm_ml = serializers.DecimalField(required=False, allow_null=True, **VOLUME)
    initial_volume_ml = serializers.DecimalField(**VOLUME)
    dead_space_ml = serializers.DecimalField(required=False, allow_null=True, help_text="T15", **VOLUME)
    elective_replacement_at = serializers.DateField(required=False, allow_null=True, help_text="T13: battery end")


class ProposeSerializer(Serializer):
    kind = serializers.ChoiceField(choices=[k.value for k in protocol.DoseChangeKind])
    new_daily_dose_mcg = serializers.DecimalField(min_value=Decimal("0"), **DOSE)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    segments = SegmentSerializer(many=True, required=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")
    serious_adverse_reaction = serializers.BooleanField(required=False, default=False)
    refill = serializers.PrimaryKeyRelatedField(
        queryset=Refill.objects.all(), required=False, allow_null=True, default=None,
        help_text="T5: the refill a refill adjustment belongs to",
    )  # fmt: skip

    def validate_segments(self, value):
        return [{"start": s["start"], "percent": str(s["percent"])} for s in value]


class ApproveSerializer(Serializer):
    username = serializers.CharField(
        required=False, default="", help_text="D5: required at the first signature of a login session (token)"
    )
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices, default=SignatureMeaning.APPROVAL)
    acknowledge_warnings = serializers.BooleanField(required=False, default=False)


class RejectSerializer(Serializer):
    reason = serializers.CharField()


class ProgrammedSerializer(Serializer):
    programmed_at = AwareDateTimeField()
    daily_dose_mcg = serializers.DecimalField(**DOSE)
    concentration_mcg_per_ml = serializers.DecimalField(**STRENGTH)
    segments = SegmentSerializer(many=True, required=False, help_text="T12: as read back, when the program has them")

    validate_segments = ProposeSerializer.validate_segments


class ReadbackSerializer(Serializer):
    read_at = AwareDateTimeField()
    daily_dose_mcg = serializers.DecimalField(**DOSE)
    concentration_mcg_per_ml = serializers.DecimalField(**STRENGTH)
    segments = SegmentSerializer(many=True, required=False, help_text="T12: as read back, when the program has them")

    validate_segments = ProposeSerializer.validate_segments


class BlindDoseChangeSerializer(ModelSerializer):
    """T12: a dose change as the clinicians entering values blind receive it: its state and who did what, without
    the approved values."""

    # Plain strings: the choices are DoseChange's, described once in its schema component.
    kind = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    programmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    read_back_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = DoseChange
        fields = ["id", "pump", "kind", "state", "earliest_at", "approved_by", "approved_at", "programmed_by",
                  "programmed_at", "read_back_by", "read_back_at"]  # fmt: skip


class NewProgramSerializer(Serializer):
    """T15: the program for a new strength filled at a refill."""

    new_daily_dose_mcg = serializers.DecimalField(min_value=Decimal("0"), **DOSE)
    segments = SegmentSerializer(many=True, required=False)

    validate_segments = ProposeSerializer.validate_segments


class RefillSerializer(Serializer):
    refilled_at = AwareDateTimeField()
    volume_removed_ml = serializers.DecimalField(**VOLUME)
    volume_added_ml = serializers.DecimalField(**VOLUME)
    concentration_mcg_per_ml = serializers.DecimalField(**STRENGTH)
    lot = serializers.CharField(max_length=60)
    # R6: the service refuses the refill unless both are true (left out, they are not confirmed).
    septum_access_confirmed = serializers.BooleanField(
        required=False, default=False, help_text="R6: accessed through the reservoir septum"
    )
    aseptic_technique = serializers.BooleanField(required=False, default=False, help_text="R6: aseptic technique")
    new_program = NewProgramSerializer(
        required=False, allow_null=True, default=None, help_text="T15: with a strength other than the pump's"
    )
    dead_space_ml = serializers.DecimalField(
        required=False, allow_null=True, default=None,
        help_text="T15: the pump's dead space, when its implant did not record it", **VOLUME,
    )  # fmt: skip


class RefillResponseSerializer(PumpSerializer):
    """The pump after the refill; with a new strength (T15), the proposed change and its transition."""

    dose_change = DoseChangeSerializer(required=False)
    transition = TransitionSerializer(required=False)


class PhaseSerializer(Serializer):
    phase = serializers.ChoiceField(choices=[p.value for p in protocol.Phase])
    reason = serializers.CharField()


def _pump_body(request, pump_id: int) -> dict:
    return PumpSerializer(selectors.pump_with_history(request.user, pump_id), context={"request": request}).data


def _new_pump_body(request, pump: Pump) -> dict:
    """An implanted or replacement pump, with the first program proposed for it (T1, T13)."""
    body = _pump_body(request, pump.pk)
    initial = pump.dose_changes.get(kind=protocol.DoseChangeKind.INITIAL)
    body["initial_dose_change"] = DoseChangeSerializer(initial).data
    return body


class ImplantView(WardflowAPIView):
    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = ImplantSerializer

    @extend_schema(request=ImplantSerializer, responses={201: PumpSerializer})
    def post(self, request, pk):
        patient = get_object_or_404(visible_patients(request.user), pk=pk)
        pump = services.implant_pump(actor=request.user, patient=patient, **self.validated())
        return Response(_new_pump_body(request, pump), status=status.HTTP_201_CREATED)


class _PumpActView(WardflowAPIView):
    # An act on a pump the caller may see, answered with the pump as the act left it (no docstring: the schema
    # would show it for the views without their own).
    serializer_class = None
    act = None
    success_status = status.HTTP_200_OK

    def post(self, request, pk):
        pump = get_object_or_404(selectors.visible_pumps(request.user), pk=pk)
        type(self).act(actor=request.user, pump=pump, **self.validated())
        return Response(_pump_body(request, pk), status=self.success_status)


@extend_schema(request=ExplantSerializer, responses=PumpSerializer)
class ExplantView(_PumpActView):
    """T13: the pump was removed; it keeps its record, off the registry."""

    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = ExplantSerializer
    act = staticmethod(services.explant_pump)


class ReplaceView(WardflowAPIView):
    """T13: the new pump, with the program in force carried over as its proposed `initial_dose_change`."""

    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = ReplaceSerializer

    @extend_schema(request=ReplaceSerializer, responses={201: PumpSerializer})
    def post(self, request, pk):
        pump = get_object_or_404(selectors.visible_pumps(request.user), pk=pk)
        new = services.replace_pump(actor=request.user, pump=pump, **self.validated())
        return Response(_new_pump_body(request, new), status=status.HTTP_201_CREATED)


class PumpFilter(django_filters.FilterSet):
    ward = ward_filter("patient__ward__code")

    class Meta:
        model = Pump
        fields = ["ward"]


class RegistryView(mixins.ListModelMixin, WardflowAPIView):
    """The pumps in place on the caller's wards (T13), most urgent refill first; `?ward=CODE` narrows it."""

    allowed_roles = {"GET": CLINICAL_ROLES}
    serializer_class = RegistrySerializer

    filterset_class = PumpFilter

    def get_queryset(self):
        return selectors.pumps_in_place(self.request.user)

    def get(self, request):
        return self.list(request)


class PumpDetailView(WardflowAPIView):
    allowed_roles = {"GET": CLINICAL_ROLES}
    serializer_class = PumpSerializer

    def get(self, request, pk):
        get_object_or_404(selectors.visible_pumps(request.user), pk=pk)
        return Response(_pump_body(request, pk))


class ProposeDoseChangeView(WardflowAPIView):
    allowed_roles = {"POST": CLINICAL_ROLES}
    refusal_statuses = frozenset({409, 422})
    serializer_class = ProposeSerializer

    @extend_schema(request=ProposeSerializer, responses={201: DoseChangeSerializer})
    def post(self, request, pk):
        if (pump := selectors.pump_to_act_on(request.user, pk)) is None:
            raise Http404
        change = services.propose_dose_change(actor=request.user, pump=pump, **self.validated())
        return Response(DoseChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class _DoseChangeActView(WardflowAPIView):
    serializer_class = None
    act = None

    def post(self, request, pk):
        if (change := selectors.dose_change_to_act_on(request.user, pk)) is None:
            raise Http404
        change = type(self).act(actor=request.user, change=change, **self.validated())
        return Response(DoseChangeSerializer(change).data)


@extend_schema(request=ApproveSerializer, responses=DoseChangeSerializer)
class ApproveView(_DoseChangeActView):
    """T9, D5: the approver's own password, re-entered (with the user name at the token's first signature), is the
    electronic signature; a wrong one answers 403, and 423 while the approver's signing is locked."""

    allowed_roles = {"POST": NEUROLOGIST}
    refusal_statuses = frozenset({409, 423})
    serializer_class = ApproveSerializer

    def post(self, request, pk):
        if (change := selectors.dose_change_to_act_on(request.user, pk)) is None:
            raise Http404
        signature = self.validated()
        first_of_session = not signer_identified(request)
        change = services.approve_dose_change(
            actor=request.user, change=change, first_of_session=first_of_session, **signature
        )
        if first_of_session:  # D5: signed with the user name (the service refuses a first signature without it)
            mark_signer_identified(request)
        return Response(DoseChangeSerializer(change).data)


@extend_schema(request=RejectSerializer, responses=DoseChangeSerializer)
class RejectView(_DoseChangeActView):
    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = RejectSerializer
    act = staticmethod(services.reject_dose_change)


class _BlindEntryView(_DoseChangeActView):
    # T12: answered without the approved values, which the clinician entering them blind must not receive.
    def post(self, request, pk):
        if (change := selectors.dose_change_to_act_on(request.user, pk)) is None:
            raise Http404
        change = type(self).act(actor=request.user, change=change, **self.validated())
        return Response(BlindDoseChangeSerializer(change).data)


@extend_schema(request=ProgrammedSerializer, responses=BlindDoseChangeSerializer)
class ProgrammedView(_BlindEntryView):
    """T12: the nurse's blind re-entry of what the pump reads back (segments too, when the program has them); a
    mismatch answers 409 and changes nothing. With `independent_readback` a match makes the change `programmed`,
    waiting for the read-back; without it, `active`."""

    allowed_roles = {"POST": NURSE}
    serializer_class = ProgrammedSerializer
    act = staticmethod(services.confirm_programming)


@extend_schema(request=ReadbackSerializer, responses=BlindDoseChangeSerializer)
class ReadbackView(_BlindEntryView):
    """T12: a second clinician of the ward, neither the programmer nor the signer, reads the programmed pump back
    blind; a match makes the change `active`, a mismatch answers 409, the programmer or signer 403."""

    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = ReadbackSerializer
    act = staticmethod(services.read_back)


class RefillView(WardflowAPIView):
    """R5, R6: the refill, confirmed through the septum with aseptic technique. T15: a new strength comes with
    `new_program`; the answer then holds the proposed `dose_change` and its `transition`."""

    allowed_roles = {"POST": CLINICAL_ROLES}
    refusal_statuses = frozenset({409, 422})
    serializer_class = RefillSerializer

    @extend_schema(request=RefillSerializer, responses={201: RefillResponseSerializer})
    def post(self, request, pk):
        if (pump := selectors.pump_to_act_on(request.user, pk)) is None:
            raise Http404
        refill = services.record_refill(actor=request.user, pump=pump, **self.validated())
        pump = selectors.with_history(refill.pump)  # as the refill left it, under its lock
        body = PumpSerializer(pump, context={"request": request}).data
        if change := selectors.concentration_change_of(refill, pump.dose_changes.all()):
            body["dose_change"] = DoseChangeSerializer(change, context={"request": request}).data
            body["transition"] = transition_body(change)
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(request=PhaseSerializer, responses=PumpSerializer)
class PhaseView(_PumpActView):
    allowed_roles = {"POST": NEUROLOGIST}
    serializer_class = PhaseSerializer
    act = staticmethod(services.set_phase)


class RefillEnteredInErrorView(WardflowAPIView):
    """D4: the refill stays, flagged; the reservoir estimate and the refill dates go back to the last fill that
    counts (R2). A dose change proposed at the refill that stands answers 409 (reject it first); another ward's
    refill answers 404."""

    allowed_roles = {"POST": CLINICAL_ROLES}
    serializer_class = CorrectionSerializer

    @extend_schema(request=CorrectionSerializer, responses=RefillRecordSerializer)
    def post(self, request, pk):
        refill = get_object_or_404(selectors.visible_refills(request.user), pk=pk)
        refill = services.mark_refill_entered_in_error(actor=request.user, refill=refill, **self.validated())
        return Response(RefillRecordSerializer(refill).data)
