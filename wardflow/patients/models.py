from datetime import date

from django.core.validators import MinValueValidator
from django.db import models

from wardflow import protocol
from wardflow.policy import current_policy
from wardflow.protocol import SpasticityOrigin


class Patient(models.Model):
    # Unique in the whole hospital (a patient is registered once); the refusal reads the same whichever ward holds
    # the number, so that it tells nothing about another ward's patients.
    mrn = models.CharField(
        "MRN",
        max_length=40,
        unique=True,
        error_messages={"unique": "This MRN is already registered; a patient is registered once. Check the number."},
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    ward = models.ForeignKey("staff.Ward", on_delete=models.PROTECT, related_name="patients")
    spasticity_origin = models.CharField(
        max_length=10, choices=[(o.value, o.value.capitalize()) for o in SpasticityOrigin]
    )
    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    active_infection = models.BooleanField(default=False, help_text="P1: no test dose while charted.")
    oral_antispasmodics = models.TextField(blank=True, help_text="P3: current oral antispasmodics and taper plan.")
    renal_impairment = models.BooleanField(default=False)
    # P4 withdrawal-risk factors.
    sci_t6_or_above = models.BooleanField("spinal cord injury at T6 or above", default=False)
    communication_difficulties = models.BooleanField(default=False)
    history_of_withdrawal = models.BooleanField(default=False)
    # P5 cautions beyond renal impairment and age.
    psychiatric_or_brain_disorder = models.BooleanField(default=False)
    seizure_disorder = models.BooleanField(default=False)
    autonomic_dysreflexia_history = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]

    def __str__(self):
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def age_years(self, on: date) -> int:
        return protocol.age_years(self.date_of_birth, on)

    def age_band(self, on: date) -> protocol.AgeBand:
        return protocol.age_band(self.date_of_birth, on, current_policy())

    @property
    def high_withdrawal_risk(self) -> bool:
        return protocol.high_withdrawal_risk(
            sci_t6_or_above=self.sci_t6_or_above,
            communication_difficulties=self.communication_difficulties,
            history_of_withdrawal=self.history_of_withdrawal,
        )

    def cautions(self, on: date) -> list[str]:
        return protocol.cautions(
            protocol.CautionFactors(
                age_years=self.age_years(on),
                oral_antispasmodics=self.oral_antispasmodics,
                renal_impairment=self.renal_impairment,
                psychiatric_or_brain_disorder=self.psychiatric_or_brain_disorder,
                seizure_disorder=self.seizure_disorder,
                autonomic_dysreflexia_history=self.autonomic_dysreflexia_history,
            ),
            current_policy(),
        )
