"""Forms translate what a person typed; the services decide. Field names match the services' arguments so that a
refusal naming a field is shown next to it."""

import re
from datetime import UTC, datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from wardflow import protocol
from wardflow.clinical_time import clock_text, ward_local, ward_timezone
from wardflow.patients.models import Patient

# S5: the Modified Ashworth steps as the protocol stores them; 1+ is stored as 1.5.
ASHWORTH_CHOICES = [(str(step), notation) for step, notation in protocol.ASHWORTH_NOTATION.items()]
PENN_CHOICES = [(str(n), str(n)) for n in range(5)]


def decimal_field(label, **kwargs):
    return forms.DecimalField(label=label, widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
                              **kwargs)  # fmt: skip


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def ward_instants(wall: datetime) -> list[datetime]:
    """The real instants a wall-clock time on the ward may mean, earliest first: one; two in the hour the clocks repeat
    (autumn) or skip (spring: read on a clock already put forward, or not yet); none beyond the calendar's range."""
    zone = ward_timezone()
    try:
        # Compared in UTC: within one zone, the two folds of a repeated time compare equal.
        instants = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    except OverflowError:
        return []
    return [timezone.localtime(instant, zone) for instant in sorted(instants)]


def _typed_time(value) -> datetime | None:
    """A date and time as typed (datetime-local posts ISO 8601), or None when it is not one."""
    if isinstance(value, datetime):
        return value
    try:
        return parse_datetime(str(value).strip()) if value else None
    except ValueError:
        return None


def _repeated(wall: datetime, instants: list[datetime]) -> bool:
    """Two instants both read as this wall time (the autumn hour), rather than neither (the skipped spring hour)."""
    return all(instant.replace(tzinfo=None) == wall for instant in instants)


def _choice_value(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def _utc_offset(instant: datetime) -> str:
    minutes = round(instant.utcoffset().total_seconds() / 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def instant_choices(wall: datetime | None) -> list[tuple[str, str]]:
    """What the form asks when a typed local time means two instants: each instant (in UTC) with its ward time and
    offset; nothing when the time is one instant."""
    instants = ward_instants(wall) if wall is not None and timezone.is_naive(wall) else []
    if len(instants) < 2:
        return []
    if _repeated(wall, instants):
        notes = ("before the clocks went back", "after the clocks went back")
    else:
        notes = (f"{wall:%H:%M} on a clock already put forward", f"{wall:%H:%M} on a clock not yet put forward")
    return [(_choice_value(instant), f"{instant:%H:%M} {instant.tzname()} ({_utc_offset(instant)}), {note}")
            for instant, note in zip(instants, notes, strict=True)]  # fmt: skip


class WardDateTimeInput(LocalDateTimeInput):
    """The ward's local time and, below it only when that time means two instants, the choice between them."""

    def value_from_datadict(self, data, files, name):
        return [data.get(name), data.get(f"{name}_instant")]

    def render(self, name, value, attrs=None, renderer=None):
        if isinstance(value, datetime):  # an instant (the initial "now"): its ward time, and itself picked if asked
            typed, picked = ward_local(value).replace(tzinfo=None), _choice_value(value)
        else:
            typed, picked = value if isinstance(value, list | tuple) else (value, None)
        html = super().render(name, typed, attrs, renderer)
        wall = _typed_time(typed)
        if not (choices := instant_choices(wall)):
            return html
        choice_attrs = {"id": f"{attrs['id']}_instant"} if attrs and attrs.get("id") else None
        radios = forms.RadioSelect(choices=choices).render(f"{name}_instant", picked, choice_attrs, renderer)
        return html + format_html('<fieldset class="instant"><legend>Which {} was it?</legend>{}</fieldset>',
                                  f"{wall:%H:%M}", radios)  # fmt: skip


class WardDateTimeField(forms.DateTimeField):
    """A when-field in the ward's local time (Dates, times and input). A time the clocks repeat (autumn) or skip
    (spring) is never guessed: the form asks which instant it was, and the instant picked is the one saved."""

    widget = WardDateTimeInput
    default_error_messages = {
        "repeated": "%(time)s happened twice on %(day)s (the clocks went back): choose which one.",
        "skipped": "%(time)s did not happen on %(day)s (the clocks went forward): choose the time you meant.",
    }

    def prepare_value(self, value):
        return value  # an instant stays one: the widget shows it in the ward's time and knows which of two it is

    def to_python(self, value):
        typed, picked = value if isinstance(value, list | tuple) else (value, None)
        if typed in self.empty_values:
            return None
        moment = _typed_time(typed)
        if moment is not None and timezone.is_aware(moment):
            return moment
        instants = ward_instants(moment) if moment is not None else []
        if not instants:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if len(instants) == 1:
            return instants[0]
        if chosen := [instant for instant in instants if _choice_value(instant) == picked]:
            return chosen[0]
        code = "repeated" if _repeated(moment, instants) else "skipped"
        raise ValidationError(
            self.error_messages[code], code=code, params={"time": f"{moment:%H:%M}", "day": f"{moment:%d %b %Y}"}
        )


def when_field(label):
    return WardDateTimeField(label=label, initial=lambda: timezone.now().replace(second=0, microsecond=0))


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "mrn", "given_name", "family_name", "date_of_birth", "ward", "spasticity_origin", "weight_kg",
            "active_infection", "oral_antispasmodics", "renal_impairment", "sci_t6_or_above",
            "communication_difficulties", "history_of_withdrawal", "psychiatric_or_brain_disorder",
            "seizure_disorder", "autonomic_dysreflexia_history",
        ]  # fmt: skip
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}),
                   "oral_antispasmodics": forms.Textarea(attrs={"rows": 2})}  # fmt: skip

    def __init__(self, *args, wards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward"].queryset = wards


class OpenTrialForm(forms.Form):
    first_dose_mcg = forms.TypedChoiceField(label="First test dose", coerce=Decimal, choices=[
        (protocol.TEST_DOSE_LADDER_MCG[0], f"{protocol.TEST_DOSE_LADDER_MCG[0]} mcg (standard, S1)"),
        (protocol.PEDIATRIC_FIRST_DOSE_MCG, f"{protocol.PEDIATRIC_FIRST_DOSE_MCG} mcg (very small children, S2)"),
    ])  # fmt: skip
    reason = forms.CharField(label="Reason for a 25 mcg start (S2)", required=False)
    override_reason = forms.CharField(label="Override reason", required=False)

    OVERRIDES = {
        "P2": f"the patient is under {protocol.MIN_SCREENING_AGE_YEARS} years (P2)",
        "S11": "re-screening after a not-candidate result (S11)",
    }

    def __init__(self, *args, overrides: tuple[str, ...] = (), **kwargs):
        """`overrides`: the rules under which this opening needs a written override (the screening selector says)."""
        super().__init__(*args, **kwargs)
        if overrides:
            field = self.fields["override_reason"]
            field.required = True
            field.label = "Override reason: " + "; ".join(self.OVERRIDES[rule] for rule in overrides)
        else:
            del self.fields["override_reason"]


class ImplantForm(forms.Form):
    implanted_at = when_field("Implanted at")
    model = forms.CharField(max_length=100)
    serial = forms.CharField(max_length=60)
    reservoir_ml = decimal_field("Reservoir (mL)", min_value=0)
    alarm_ml = decimal_field("Low-reservoir alarm (mL)", min_value=0)
    concentration_mcg_per_ml = decimal_field("Concentration (mcg/mL)", min_value=0)
    initial_volume_ml = decimal_field("Initial fill (mL)", min_value=0)
    dilution_note = forms.CharField(label="Dilution record (non-commercial strengths, T2)", required=False)
    dead_space_ml = decimal_field("Pump and catheter dead space (mL, T15)", required=False, min_value=0)
    elective_replacement_at = forms.DateField(
        label="Elective replacement date (battery end of life, T13)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ExplantForm(forms.Form):
    explanted_at = when_field("Explanted at")
    reason = forms.CharField(label="Reason for the explant (T13)", widget=forms.Textarea(attrs={"rows": 2}))


class ReplaceForm(forms.Form):
    """T13: the new pump starts at the program in force, proposed for signature; its fill starts its reservoir."""

    replaced_at = when_field("Replaced at")
    reason = forms.CharField(label="Reason (end of battery life, malfunction; T13)")
    model = forms.CharField(max_length=100)
    serial = forms.CharField(max_length=60)
    reservoir_ml = decimal_field("Reservoir (mL)", min_value=0)
    alarm_ml = decimal_field("Low-reservoir alarm (mL)", min_value=0)
    initial_volume_ml = decimal_field("Initial fill (mL)", min_value=0)
    dead_space_ml = decimal_field("Pump and catheter dead space (mL, T15)", required=False, min_value=0)
    elective_replacement_at = forms.DateField(label="Elective replacement date (T13)", required=False,
                                              widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip


class TestDoseForm(forms.Form):
    __test__ = False

    administered_at = when_field("Given at")
    dose_mcg = decimal_field("Dose (mcg)")
    volume_ml = decimal_field("Volume (mL)")
    lot = forms.CharField(label="Lot / ampule", max_length=60)
    route = forms.ChoiceField(choices=[(r.value, r.value.replace("_", " ")) for r in protocol.Route],
                              widget=forms.RadioSelect)  # fmt: skip
    injection_seconds = forms.IntegerField(label="Injection over (seconds)", min_value=0,
                                           widget=forms.NumberInput(attrs={"inputmode": "numeric"}))  # fmt: skip
    resuscitation_ready = forms.BooleanField(label="Resuscitation equipment is at hand", required=False)
    override_reason = forms.CharField(label="Override reason (neurologist, when the pre-dose check refuses; V2)",
                                      required=False, widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args, may_override: bool, **kwargs):
        """`may_override`: whether the caller may override a refused pre-dose check (the screening selector says)."""
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["override_reason"]


class ObservationForm(forms.Form):
    observed_at = when_field("Observed at")
    ashworth_mean = forms.TypedChoiceField(label="Modified Ashworth (mean of assessed limbs)", choices=ASHWORTH_CHOICES,
                                           coerce=Decimal, widget=forms.RadioSelect)  # fmt: skip
    penn_spasm_frequency = forms.TypedChoiceField(label="Penn spasm frequency", choices=PENN_CHOICES, coerce=Decimal,
                                                  widget=forms.RadioSelect)  # fmt: skip
    heart_rate = decimal_field("Heart rate (/min)")
    systolic_bp = decimal_field("Systolic BP (mmHg)")
    diastolic_bp = decimal_field("Diastolic BP (mmHg)")
    respiratory_rate = decimal_field("Respiratory rate (/min)")
    spo2 = decimal_field("SpO2 (%)")
    temperature_c = decimal_field("Temperature (°C)")
    sedation = forms.ChoiceField(choices=[(s.value, s.value) for s in protocol.Sedation], widget=forms.RadioSelect,
                                 initial=protocol.Sedation.ALERT)  # fmt: skip
    on_oxygen = forms.BooleanField(label="On supplemental oxygen (V1)", required=False)
    signs = forms.MultipleChoiceField(choices=[(s, s.replace("_", " ")) for s in sorted(protocol.ALL_SIGNS)],
                                      widget=forms.CheckboxSelectMultiple, required=False)  # fmt: skip
    time_point = forms.ChoiceField(label="Time point", required=False, widget=forms.RadioSelect)
    late_reason = forms.CharField(label="Reason for a late entry (optional)", required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    chart_anyway = forms.BooleanField(label="Chart at this time anyway", required=False)

    def __init__(self, *args, time_points=(), **kwargs):
        """`time_points`: the schedule's time points (the web selector says which); picking one fills the time,
        which stays editable for a late entry."""
        super().__init__(*args, **kwargs)
        self.time_points = {point.key: point for point in time_points}
        self.fields["time_point"].choices = [(p.key, self._point_label(p)) for p in time_points]
        self.warnings = []

    @staticmethod
    def _point_label(point) -> str:
        when = f", {clock_text(point.at, timezone.now())}" if point.at else ""
        return point.label + when + (" (charted)" if point.charted else "")

    def clean(self):
        """A1/S6: a time outside the chosen time point's slot or the assessment window is charted only once
        confirmed; the service itself accepts it. The time point and the confirmation go no further than the form."""
        cleaned = super().clean()
        point = self.time_points.get(cleaned.pop("time_point", None) or "")
        anyway = cleaned.pop("chart_anyway", False)
        if point and cleaned.get("observed_at"):
            self.warnings = point.warnings(cleaned["observed_at"])
            if self.warnings and not anyway:
                self.add_error("chart_anyway", "Check the time, or confirm that it is charted at this time anyway.")
        return cleaned


class AssessmentForm(forms.Form):
    response = forms.ChoiceField(choices=[(r.value, r.value) for r in protocol.Response], widget=forms.RadioSelect)
    duration_hours = decimal_field(
        "Response lasted (hours, positive only)", required=False, help_text="More than 0 h (S8)."
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ApprovalForm(forms.Form):
    # D5: required by the service at the first signature of a login session, accepted at every one.
    username = forms.CharField(label="Your user name", required=False, widget=forms.TextInput(
        attrs={"autocomplete": "off", "autocapitalize": "none"}))  # fmt: skip
    password = forms.CharField(label="Your password (electronic signature)", widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}), strip=False)  # fmt: skip
    acknowledge_warnings = forms.BooleanField(
        label="I have read the warnings (T8 range, T15 transition)", required=False
    )


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500)


class EnteredInErrorForm(forms.Form):
    """D4: the record stays, struck through with who, when and this reason."""

    reason = forms.CharField(label="Why was it entered in error? (D4)", widget=forms.Textarea(attrs={"rows": 2}))


SEGMENT_LINE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s+(\d{1,3}(?:\.\d)?)\s*%?$")


def segments_field():
    # T7: one segment per line, its start and percent, e.g. "00:00 100" then "20:00 120"; empty for a flat program.
    return forms.CharField(label="Time segments read back from the pump (one per line: HH:MM percent; empty if none)",
                           required=False, widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip


def read_segments(text: str) -> list[dict] | None:
    """T12: the segments as typed, one `HH:MM percent` per line, in the services' form; None when none were typed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    segments = []
    for line in lines:
        if not (match := SEGMENT_LINE.match(line)):
            raise ValidationError(f"{line!r}: write each segment as HH:MM and the percent, e.g. 20:00 120.")
        segments.append({"start": f"{match[1]}:{match[2]}", "percent": match[3]})
    return segments or None


class ProgrammingForm(forms.Form):
    """T12: blind re-entry. Never initialised with the approved values."""

    programmed_at = when_field("Programmed at")
    daily_dose_mcg = decimal_field("Daily dose read back from the pump (mcg/day)")
    concentration_mcg_per_ml = decimal_field("Concentration read back from the pump (mcg/mL)")
    segments = segments_field()

    def clean_segments(self):
        return read_segments(self.cleaned_data["segments"])


class ReadbackForm(forms.Form):
    """T12: the second clinician's blind read-back. Never initialised with the approved values."""

    read_at = when_field("Read back at")
    daily_dose_mcg = decimal_field("Daily dose read back from the pump (mcg/day)")
    concentration_mcg_per_ml = decimal_field("Concentration read back from the pump (mcg/mL)")
    segments = segments_field()

    def clean_segments(self):
        return read_segments(self.cleaned_data["segments"])


class RefillForm(forms.Form):
    refilled_at = when_field("Refilled at")
    volume_removed_ml = decimal_field("Residual volume removed (mL)", min_value=0)
    volume_added_ml = decimal_field("Volume added (mL)", min_value=0)
    concentration_mcg_per_ml = decimal_field("Concentration (mcg/mL)")
    lot = forms.CharField(label="Lot", max_length=60)
    # R6: both required; the service refuses the refill without them as well.
    septum_access_confirmed = forms.BooleanField(
        label="Accessed through the reservoir septum (never the catheter access port)"
    )
    aseptic_technique = forms.BooleanField(label="Aseptic technique")
    # T15: only with a concentration other than the programmed one.
    new_daily_dose_mcg = decimal_field("New strength only: daily dose of its new program (mcg/day)", min_value=0,
                                       required=False)  # fmt: skip
    new_segments = forms.CharField(label="New strength only: time segments (one per line: HH:MM percent; optional)",
                                   required=False, widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    dead_space_ml = decimal_field("Pump and catheter dead space (mL, T15; not recorded at implant)", min_value=0,
                                  required=False)  # fmt: skip

    def __init__(self, *args, dead_space_recorded: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if dead_space_recorded:
            del self.fields["dead_space_ml"]

    def clean(self):
        """T15: the new program goes to the service as `new_program`, given when a new daily dose was entered."""
        cleaned = super().clean()
        dose, segments = cleaned.pop("new_daily_dose_mcg", None), cleaned.pop("new_segments", "")
        try:
            segments = read_segments(segments or "")
        except ValidationError as problem:
            self.add_error("new_segments", problem)
        cleaned["new_program"] = None if dose is None else {"new_daily_dose_mcg": dose, "segments": segments or []}
        return cleaned


class ProposeForm(forms.Form):
    kind = forms.ChoiceField()
    new_daily_dose_mcg = decimal_field("New daily dose (mcg/day)", min_value=0)
    reason = forms.CharField(required=False)
    override_reason = forms.CharField(label="Override reason (neurologist, beyond the band)", required=False)
    refill = forms.TypedChoiceField(label="Refill visit of this adjustment (T5)", required=False, coerce=int,
                                    empty_value=None)  # fmt: skip
    serious_adverse_reaction = forms.BooleanField(
        label="Stop at once for a serious adverse reaction (T11; document the reason)", required=False
    )

    def __init__(self, *args, kinds, refills, may_override: bool, allowed_ranges=(), **kwargs):
        """`kinds`, `refills`: what the titration selectors allow now; the service checks them again.
        `allowed_ranges`: the daily doses each kind accepts without an override, shown beside the dose."""
        super().__init__(*args, **kwargs)
        if allowed_ranges:
            self.fields["new_daily_dose_mcg"].help_text = "Allowed without an override: " + "; ".join(allowed_ranges)
        self.refills = {refill.pk: refill for refill in refills}
        self.fields["kind"].choices = [(k.value, k.value.replace("_", " ")) for k in kinds]
        self.fields["refill"].choices = [("", "—")] + [
            (r.pk, f"{clock_text(r.refilled_at, timezone.now())}, {r.volume_added_ml} mL") for r in refills
        ]
        if not refills:
            del self.fields["refill"]
        if not may_override:
            del self.fields["override_reason"]

    def clean_refill(self):
        return self.refills.get(self.cleaned_data["refill"])


class TrialChangeForm(forms.Form):
    """S10, S1: a neurologist's reasoned change to a trial (resume after review, or cancel)."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class PhaseForm(forms.Form):
    """T5: the phase the page offered travels with the form, so a repeated submit is refused, not toggled back."""

    phase = forms.ChoiceField(choices=[(p.value, p.value) for p in protocol.Phase], widget=forms.HiddenInput)
    reason = forms.CharField(label="Reason for the change of phase (T5)", widget=forms.Textarea(attrs={"rows": 2}))


class InfectionForm(forms.Form):
    """P1: chart an infection active or resolved; the value charted travels with the form, like the phase."""

    active_infection = forms.TypedChoiceField(choices=[("true", "active"), ("false", "resolved")],
                                              coerce=lambda value: value == "true",
                                              widget=forms.HiddenInput)  # fmt: skip
    reason = forms.CharField(label="Note (optional): what was found, e.g. cultures negative", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def clean(self):
        """The flags service takes the change as `changes`."""
        cleaned = super().clean()
        if "active_infection" in cleaned:
            cleaned["changes"] = {"active_infection": cleaned.pop("active_infection")}
        return cleaned
