"""Forms translate what a person typed; the services decide. Field names match the services' arguments so that a
refusal naming a field is shown next to it."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from wardflow import protocol
from wardflow.patients.models import Patient

ASHWORTH_CHOICES = [("0", "0"), ("1", "1"), ("1.5", "1+"), ("2", "2"), ("3", "3"), ("4", "4")]
PENN_CHOICES = [(str(n), str(n)) for n in range(5)]


def decimal_field(label, **kwargs):
    return forms.DecimalField(label=label, widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
                              **kwargs)  # fmt: skip


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def when_field(label):
    return forms.DateTimeField(label=label, widget=LocalDateTimeInput(), initial=lambda: timezone.localtime().replace(
        second=0, microsecond=0))  # fmt: skip


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
    override_reason = forms.CharField(
        label=f"Override reason, patient under {protocol.MIN_SCREENING_AGE_YEARS} years (P2)", required=False
    )


class ImplantForm(forms.Form):
    implanted_at = when_field("Implanted at")
    model = forms.CharField(max_length=100)
    serial = forms.CharField(max_length=60)
    reservoir_ml = decimal_field("Reservoir (mL)", min_value=0)
    alarm_ml = decimal_field("Low-reservoir alarm (mL)", min_value=0)
    concentration_mcg_per_ml = decimal_field("Concentration (mcg/mL)", min_value=0)
    initial_volume_ml = decimal_field("Initial fill (mL)", min_value=0)
    dilution_note = forms.CharField(label="Dilution record (non-commercial strengths, T2)", required=False)


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
    signs = forms.MultipleChoiceField(choices=[(s, s.replace("_", " ")) for s in sorted(protocol.ALL_SIGNS)],
                                      widget=forms.CheckboxSelectMultiple, required=False)  # fmt: skip


class AssessmentForm(forms.Form):
    response = forms.ChoiceField(choices=[(r.value, r.value) for r in protocol.Response], widget=forms.RadioSelect)
    duration_hours = decimal_field("Response lasted (hours, positive only)", required=False, min_value=0)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ApprovalForm(forms.Form):
    password = forms.CharField(label="Your password (electronic signature)", widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}), strip=False)  # fmt: skip
    acknowledge_warnings = forms.BooleanField(label="I have read the range warnings", required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500)


class ProgrammingForm(forms.Form):
    """T12: blind re-entry. Never initialised with the approved values."""

    programmed_at = when_field("Programmed at")
    daily_dose_mcg = decimal_field("Daily dose read back from the pump (mcg/day)")
    concentration_mcg_per_ml = decimal_field("Concentration read back from the pump (mcg/mL)")


class RefillForm(forms.Form):
    refilled_at = when_field("Refilled at")
    volume_removed_ml = decimal_field("Residual volume removed (mL)", min_value=0)
    volume_added_ml = decimal_field("Volume added (mL)", min_value=0)
    concentration_mcg_per_ml = decimal_field("Concentration (mcg/mL)")
    lot = forms.CharField(label="Lot", max_length=60)


class ProposeForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.value, k.value.replace("_", " ")) for k in protocol.DoseChangeKind
                                      if k != protocol.DoseChangeKind.INITIAL])  # fmt: skip
    new_daily_dose_mcg = decimal_field("New daily dose (mcg/day)", min_value=0)
    reason = forms.CharField(required=False)
    override_reason = forms.CharField(label="Override reason (neurologist, beyond the band)", required=False)
