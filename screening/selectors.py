from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from wardflow import protocol
from wardflow.patients.selectors import visible_patients
from wardflow.protocol import TrialState

from .models import Observation, ScreeningTrial, TestDose
from .services import suggestion_for


def _with_details(trials: QuerySet[ScreeningTrial]) -> QuerySet[ScreeningTrial]:
    return (
        trials.select_related("patient", "patient__ward")
        .prefetch_related(
            Prefetch(
                "doses",
                queryset=TestDose.objects.select_related("given_by", "assessment", "assessment__assessed_by").order_by(
                    "number"
                ),
            ),
            Prefetch("observations", queryset=Observation.objects.order_by("observed_at", "id")),
        )
        .order_by("-opened_at", "-id")
    )


def visible_trials(user) -> QuerySet[ScreeningTrial]:
    """Trials of the patients the caller may see (their wards), with what the trial view needs prefetched."""
    return _with_details(ScreeningTrial.objects.filter(patient__in=visible_patients(user)))


def trial_with_details(pk: int) -> ScreeningTrial:
    return _with_details(ScreeningTrial.objects.filter(pk=pk)).get()


def next_dose(trial: ScreeningTrial) -> tuple[int | None, object, object]:
    """(number, mcg, due_at) of the next test dose, or (None, None, None) when none may follow. `due_at` is None
    when it may be given now (S3)."""
    doses = list(trial.doses.all())
    if trial.state != TrialState.AWAITING_DOSE or len(doses) >= protocol.MAX_TEST_DOSES:
        return None, None, None
    number = len(doses) + 1
    due_at = protocol.earliest_next_test_dose(doses[-1].administered_at) if doses else None
    if due_at is not None and due_at <= timezone.now():
        due_at = None
    return number, protocol.ladder_dose_mcg(number, trial.first_dose_mcg), due_at


def current_suggestion(trial: ScreeningTrial) -> protocol.Suggestion | None:
    """S7 for the dose being observed, from the prefetched doses and observations."""
    if trial.state != TrialState.OBSERVING:
        return None
    doses = list(trial.doses.all())
    return suggestion_for(doses[-1], doses[:-1], list(trial.observations.all()))
