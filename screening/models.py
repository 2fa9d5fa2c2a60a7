from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from wardflow.entries import EnteredInError
from wardflow.protocol import Response, Route, Sedation, TrialState

OPEN_STATES = (TrialState.AWAITING_DOSE, TrialState.OBSERVING)


def _choices(enum):
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class ScreeningTrial(FSMModelMixin, models.Model):
    """One screening phase of test doses (S1-S10). The state changes only through its transitions (protected),
    and those only through the services, which lock the row first."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="screening_trials")
    state = FSMField(default=TrialState.AWAITING_DOSE, choices=_choices(TrialState), protected=True)
    first_dose_mcg = models.DecimalField(max_digits=6, decimal_places=1)
    first_dose_reason = models.TextField(blank=True, help_text="S2: why a 25 mcg first dose.")
    age_override_reason = models.TextField(blank=True, help_text="P2: why screening under 4 years.")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    suspended_from = models.CharField(max_length=20, blank=True)
    status_reason = models.TextField(blank=True, help_text="Why it was last suspended, resumed or cancelled.")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state"])]
        constraints = [
            # One open trial per patient at a time.
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(state__in=["awaiting_dose", "observing", "suspended"]),
                name="one_open_trial_per_patient",
            )
        ]

    def __str__(self):
        return f"Trial {self.pk} ({self.state})"

    @transition(field=state, source=TrialState.AWAITING_DOSE, target=TrialState.OBSERVING)
    def start_observing(self):
        """A test dose was given."""

    @transition(field=state, source=TrialState.OBSERVING, target=TrialState.AWAITING_DOSE)
    def withdraw_dose(self):
        """D4: the dose being observed was entered in error; its rung is due again."""

    @transition(
        field=state,
        source=TrialState.OBSERVING,
        target=RETURN_VALUE(TrialState.AWAITING_DOSE, TrialState.CANDIDATE, TrialState.NOT_CANDIDATE),
    )
    def conclude_dose(self, next_state: TrialState):
        """S9: the response was assessed."""
        return next_state

    @transition(field=state, source=list(OPEN_STATES), target=TrialState.SUSPENDED)
    def suspend(self):
        """S10 or P1: held pending neurologist review."""
        self.suspended_from = self.state

    @transition(field=state, source=TrialState.SUSPENDED, target=RETURN_VALUE(*OPEN_STATES))
    def resume(self):
        return self.suspended_from

    @transition(field=state, source=[*OPEN_STATES, TrialState.SUSPENDED], target=TrialState.CANCELLED)
    def cancel(self):
        """Ended without a candidacy decision."""


class TestDose(EnteredInError):
    """A test dose as given (S4). Times are when it happened; `entered_at` when it was charted."""

    __test__ = False  # not a pytest test class

    trial = models.ForeignKey(ScreeningTrial, on_delete=models.PROTECT, related_name="doses")
    number = models.PositiveSmallIntegerField()
    dose_mcg = models.DecimalField(max_digits=6, decimal_places=1)
    volume_ml = models.DecimalField(max_digits=5, decimal_places=2)
    administered_at = models.DateTimeField()
    entered_at = models.DateTimeField(auto_now_add=True)
    lot = models.CharField(max_length=60)
    route = models.CharField(max_length=20, choices=_choices(Route))
    injection_seconds = models.PositiveIntegerField()
    resuscitation_ready = models.BooleanField()
    # V2: why a neurologist let the dose go ahead although the pre-dose check refused it.
    predose_override_reason = models.TextField(blank=True)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["number", "id"]
        constraints = [
            # D4: a dose entered in error frees its rung for the dose actually given.
            models.UniqueConstraint(
                fields=["trial", "number"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="one_dose_per_rung",
            )
        ]

    def __str__(self):
        return f"Test dose {self.number}: {self.dose_mcg} mcg"


class Observation(EnteredInError):
    """A charted observation (S5). Used in screening and, later, for implanted patients (W1/O1)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="observations")
    trial = models.ForeignKey(
        ScreeningTrial, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    observed_at = models.DateTimeField()
    entered_at = models.DateTimeField(auto_now_add=True)
    ashworth_mean = models.DecimalField(max_digits=4, decimal_places=2)
    penn_spasm_frequency = models.DecimalField(max_digits=3, decimal_places=1)
    heart_rate = models.DecimalField(max_digits=4, decimal_places=0)
    systolic_bp = models.DecimalField(max_digits=4, decimal_places=0)
    diastolic_bp = models.DecimalField(max_digits=4, decimal_places=0)
    respiratory_rate = models.DecimalField(max_digits=3, decimal_places=0)
    spo2 = models.DecimalField(max_digits=4, decimal_places=1)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1)
    sedation = models.CharField(max_length=12, choices=_choices(Sedation))
    signs = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    on_oxygen = models.BooleanField(default=False, help_text="V1: supplemental oxygen at the time of the observation.")
    # V1: the NEWS2 score as computed when charted, kept so that lists sort and show it without recomputing.
    news2_score = models.PositiveSmallIntegerField(null=True, blank=True)
    news2_risk = models.CharField(max_length=12, blank=True)
    news2_parameters = models.JSONField(default=dict, blank=True)
    # A1: why an observation was charted well after it was made (optional; the delay itself is entered_at).
    late_reason = models.TextField(blank=True)
    charted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["observed_at", "id"]
        indexes = [models.Index(fields=["trial", "observed_at"]), models.Index(fields=["patient", "observed_at"])]

    def __str__(self):
        return f"Observation {self.observed_at:%Y-%m-%d %H:%M}"


class Assessment(models.Model):
    """A neurologist's decision on the response to one test dose (S6-S9), beside what the system suggested."""

    test_dose = models.OneToOneField(TestDose, on_delete=models.PROTECT, related_name="assessment")
    response = models.CharField(max_length=12, choices=_choices(Response))
    duration_hours = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    suggested_response = models.CharField(max_length=12, blank=True)
    suggestion_reason = models.TextField(blank=True)
    assessed_at = models.DateTimeField()
    entered_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"{self.response} response to dose {self.test_dose.number}"
