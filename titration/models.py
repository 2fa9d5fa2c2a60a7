from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django_fsm import FSMField, FSMModelMixin, transition

from wardflow.entries import EnteredInError
from wardflow.protocol import DoseChangeKind, Phase

VOLUME = {"max_digits": 6, "decimal_places": 2}
DOSE = {"max_digits": 8, "decimal_places": 2}
STRENGTH = {"max_digits": 7, "decimal_places": 1}


def _choices(enum):
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class Pump(models.Model):
    """An implanted pump (R1): reservoir, alarm volume, drug strength, and the program in force. A patient has one
    pump in place at a time (T13); an explanted pump keeps its record."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="pumps")
    # T1: the candidate trial that led to the first implant; a replacement pump (T13) has none.
    screening_trial = models.OneToOneField(
        "screening.ScreeningTrial", null=True, blank=True, on_delete=models.PROTECT, related_name="pump"
    )
    # T13: the pump this one replaced (end of battery life, malfunction).
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    implanted_at = models.DateTimeField()
    model = models.CharField(max_length=100)
    serial = models.CharField(max_length=60, unique=True)
    reservoir_ml = models.DecimalField(**VOLUME)
    alarm_ml = models.DecimalField(**VOLUME)
    concentration_mcg_per_ml = models.DecimalField(**STRENGTH)
    dilution_note = models.TextField(blank=True, help_text="T2: how a non-commercial strength was prepared.")
    phase = models.CharField(max_length=12, choices=_choices(Phase), default=Phase.TITRATION)
    # The reservoir estimate starts from the last fill (the implant's, then each refill's).
    filled_at = models.DateTimeField()
    volume_after_fill_ml = models.DecimalField(**VOLUME)
    # R2/D4: the fill at implant or replacement, which the estimate goes back to when the refills since are all
    # entered in error.
    initial_volume_ml = models.DecimalField(null=True, blank=True, **VOLUME)
    active_change = models.OneToOneField(
        "DoseChange", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept current by every activation and refill, so that the ward registry sorts by urgency in the database.
    alarm_at = models.DateTimeField(null=True, blank=True)
    refill_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    implanted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # T15: drug of the old strength left in the pump and catheter, delivered first after a concentration change.
    dead_space_ml = models.DecimalField(null=True, blank=True, **VOLUME)
    # T13: expected end of battery life, entered at implant.
    elective_replacement_at = models.DateField(null=True, blank=True)
    explanted_at = models.DateTimeField(null=True, blank=True)
    explant_reason = models.TextField(blank=True)
    explanted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            # T13: one pump per patient at a time, whatever races the services lose.
            models.UniqueConstraint(
                fields=["patient"], condition=Q(explanted_at__isnull=True), name="one_pump_in_place_per_patient"
            ),
        ]

    def __str__(self):
        return f"{self.model} {self.serial}"

    @property
    def in_place(self) -> bool:
        return self.explanted_at is None


class DoseChange(FSMModelMixin, models.Model):
    """A proposed change of the daily dose (T3-T11). It reaches `active` only after a neurologist's signed
    approval and a nurse's blind-entry confirmation of the programming, then (policy `independent_readback`) a second
    clinician's blind read-back (T9, T12)."""

    class State(models.TextChoices):
        PROPOSED = "proposed"
        APPROVED = "approved"
        PROGRAMMED = "programmed"  # T12: programmed and recorded; waiting for the independent read-back
        REJECTED = "rejected"
        ACTIVE = "active"
        SUPERSEDED = "superseded"

    pump = models.ForeignKey(Pump, on_delete=models.PROTECT, related_name="dose_changes")
    kind = models.CharField(max_length=30, choices=_choices(DoseChangeKind))
    state = FSMField(default=State.PROPOSED, choices=State.choices, protected=True)
    new_daily_dose_mcg = models.DecimalField(**DOSE)
    previous_daily_dose_mcg = models.DecimalField(null=True, blank=True, **DOSE)
    percent_change = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    band_min_percent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    band_max_percent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    segments = models.JSONField(default=list, blank=True, help_text='T7: [{"start": "HH:MM", "percent": "120"}]')
    notices = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True, help_text="T8: need acknowledgement at approval.")
    reason = models.TextField(blank=True)
    override_reason = models.TextField(blank=True, help_text="T4: why beyond the allowed band.")
    serious_adverse_reaction = models.BooleanField(default=False, help_text="T11: allows stopping without taper.")
    # T5: the refill visit a refill adjustment belongs to (at most one adjustment per refill).
    refill = models.ForeignKey("Refill", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    earliest_at = models.DateTimeField(help_text="T3: earliest time it may be programmed.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    signature_meaning = models.CharField(max_length=200, blank=True)
    warnings_acknowledged = models.BooleanField(default=False)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    programmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    programmed_at = models.DateTimeField(null=True, blank=True)
    # T12: the second clinician who read the pump back blind.
    read_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    read_back_at = models.DateTimeField(null=True, blank=True)
    # T15: the new drug strength this program is for (a concentration change at a refill); null keeps the pump's.
    concentration_mcg_per_ml = models.DecimalField(null=True, blank=True, **STRENGTH)
    # T15: hours of old-strength drug delivered at the new rate, and the daily dose meanwhile.
    concentration_transition = models.JSONField(default=dict, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["pump", "state"])]
        constraints = [
            # T5: one refill adjustment per refill; a rejected one frees the refill for another proposal.
            models.UniqueConstraint(
                fields=["refill"],
                condition=Q(refill__isnull=False) & ~Q(state="rejected"),
                name="one_adjustment_per_refill",
            ),
        ]

    def __str__(self):
        return f"{self.kind} to {self.new_daily_dose_mcg} mcg/day ({self.state})"

    @property
    def is_increase(self) -> bool:
        return self.previous_daily_dose_mcg is not None and self.new_daily_dose_mcg > self.previous_daily_dose_mcg

    @transition(field=state, source=State.PROPOSED, target=State.APPROVED)
    def approve(self):
        """T9: signed by a neurologist."""

    @property
    def in_force_from(self):
        """When the change became the program in force (T12: at its read-back; at its programming without one)."""
        return (self.read_back_at or self.programmed_at) if self.state in WAS_IN_FORCE else None

    @transition(field=state, source=[State.PROPOSED, State.APPROVED, State.PROGRAMMED], target=State.REJECTED)
    def reject(self):
        """Refused by a neurologist, or superseded before it is in force by a reduction (T6) or an explant (T13)."""

    @transition(field=state, source=State.APPROVED, target=State.PROGRAMMED)
    def record_programming(self):
        """T12: programmed and recorded by one clinician; waits for the independent read-back."""

    @transition(field=state, source=State.PROGRAMMED, target=State.ACTIVE)
    def read_back(self):
        """T12: a second clinician read the pump back and it matched."""

    @transition(field=state, source=State.APPROVED, target=State.ACTIVE)
    def activate(self):
        """T9/T12: the nurse confirmed the pump was programmed (policy `independent_readback` off)."""

    @transition(field=state, source=State.ACTIVE, target=State.SUPERSEDED)
    def supersede(self):
        """A later change became active."""


# The changes that have been the program in force, and since when (T12: the read-back, else the programming).
WAS_IN_FORCE = (DoseChange.State.ACTIVE, DoseChange.State.SUPERSEDED)
IN_FORCE_FROM = Coalesce("read_back_at", "programmed_at")
# T9/T12: waiting for signature, programming or read-back; T6 and T13 reject these.
PENDING = (DoseChange.State.PROPOSED, DoseChange.State.APPROVED, DoseChange.State.PROGRAMMED)


class Refill(EnteredInError):
    """A refill visit (R5): what was removed and added, and the residual found against the one expected."""

    pump = models.ForeignKey(Pump, on_delete=models.PROTECT, related_name="refills")
    refilled_at = models.DateTimeField()
    entered_at = models.DateTimeField(auto_now_add=True)
    volume_removed_ml = models.DecimalField(**VOLUME)
    volume_added_ml = models.DecimalField(**VOLUME)
    concentration_mcg_per_ml = models.DecimalField(**STRENGTH)
    lot = models.CharField(max_length=60)
    expected_residual_ml = models.DecimalField(max_digits=12, decimal_places=6)
    # R6: access through the reservoir septum (never the catheter access port) and aseptic technique, confirmed.
    septum_access_confirmed = models.BooleanField(default=False)
    aseptic_technique = models.BooleanField(default=False)
    refilled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-refilled_at"]

    def __str__(self):
        return f"Refill {self.refilled_at:%Y-%m-%d}"
