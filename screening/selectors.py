"""Screening reads: trials as the ward sees them, the S7 suggestion and its inputs, and who may act on a trial now.
The refusal functions are the single place of their rule: the pages ask them whether to offer an act, the services
raise what they return."""

from datetime import datetime, timedelta

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from wardflow import protocol
from wardflow.clinical_time import shown, ward_today
from wardflow.compiled import CompiledRead, CompiledRows, read_onto, time_placeholders
from wardflow.errors import DomainError, RoleNotAllowed, WorkflowConflict
from wardflow.patients.selectors import in_reach, reach_read, visible_patients
from wardflow.policy import current_policy
from wardflow.protocol import TrialState
from wardflow.staff.models import Role
from wardflow.staff.roles import role_refusal

from .models import OPEN_STATES, Observation, ScreeningTrial, TestDose

# S10: a suspended trial is still the patient's trial: it keeps their observations and blocks a second one (S1).
CURRENT_STATES = (*OPEN_STATES, TrialState.SUSPENDED)
# S11: the trials that ended in a candidacy decision; a cancelled trial decided nothing.
DECIDED_STATES = (TrialState.CANDIDATE, TrialState.NOT_CANDIDATE)
# S3: the trial lists carry when the patient's latest test dose was given, so that each trial's next dose costs
# no query of its own.
LAST_TEST_DOSE_AT = "patient_last_test_dose_at"


def in_force(records: list) -> list:
    """D4: the records of a list that count, leaving out those entered in error."""
    return [r for r in records if not r.entered_in_error]


def patient_test_doses(patient) -> QuerySet[TestDose]:
    """S3/S11: every test dose the patient was given, in any of their trials, cancelled ones included; a dose
    entered in error was not given (D4). `patient` may be a patient, its id or an outer reference."""
    return TestDose.objects.filter(trial__patient=patient, entered_in_error_at__isnull=True)


# A test dose's act reads the trial's doses and when the patient's were given: compiled once (-1 the trial, patient).
_TRIAL_DOSES = CompiledRows(TestDose, lambda trial: TestDose.objects.filter(trial=trial))
_GIVEN_AT = CompiledRead(lambda patient: patient_test_doses(patient).values_list("administered_at"), placeholders=(-1,))


def trial_doses(trial: ScreeningTrial) -> list[TestDose]:
    """The trial's test doses in their order, those entered in error included, read onto the trial once
    (`trial.doses.all()` answers them after)."""
    return read_onto(trial, "doses", _TRIAL_DOSES)


def _with_details(trials: QuerySet[ScreeningTrial]) -> QuerySet[ScreeningTrial]:
    latest_dose = patient_test_doses(OuterRef("patient")).order_by("-administered_at").values("administered_at")
    return (
        trials.annotate(**{LAST_TEST_DOSE_AT: Subquery(latest_dose[:1])})
        .select_related("patient", "patient__ward")
        .prefetch_related(
            Prefetch(
                "doses",
                queryset=TestDose.objects.select_related(
                    "given_by", "assessment", "assessment__assessed_by", "entered_in_error_by"
                ).order_by("number", "id"),
            ),
            Prefetch("observations", queryset=Observation.objects.order_by("observed_at", "id")),
        )
        .order_by("-opened_at", "-id")
    )


def visible_trials(user) -> QuerySet[ScreeningTrial]:
    """Trials of the patients the caller may see (their wards), with what the trial view needs prefetched."""
    return _with_details(ScreeningTrial.objects.filter(patient__in=visible_patients(user)))


_TRIAL_IN_REACH = reach_read(ScreeningTrial, "patient__ward", "patient", "patient__ward")


def trial_to_act_on(user, pk: int) -> ScreeningTrial | None:
    """The trial an act names (`in_reach`), with its patient and ward, nothing prefetched: the act's service locks and
    re-reads it, so the detail view's doses and observations would be read for nothing."""
    return in_reach(_TRIAL_IN_REACH, user, pk)


def visible_test_doses(user) -> QuerySet[TestDose]:
    """Test doses of the trials the caller may see."""
    return TestDose.objects.filter(trial__in=visible_trials(user))


def visible_observations(user) -> QuerySet[Observation]:
    """Observations of the patients the caller may see."""
    return Observation.objects.filter(patient__in=visible_patients(user))


def trial_with_details(pk: int) -> ScreeningTrial:
    return _with_details(ScreeningTrial.objects.filter(pk=pk)).get()


def current_trials(patient) -> QuerySet[ScreeningTrial]:
    """The patient's open or suspended trial (at most one, S1)."""
    return ScreeningTrial.objects.filter(patient=patient, state__in=CURRENT_STATES)


def earliest_test_dose_at(trial: ScreeningTrial) -> datetime | None:
    """S3/S11: the earliest time the trial's patient may be given a test dose, 24 h after their latest one in any
    trial; None when they have had none. The trials of `visible_trials` carry the latest dose; others read it."""
    if hasattr(trial, LAST_TEST_DOSE_AT):
        latest = getattr(trial, LAST_TEST_DOSE_AT)
        given = [] if latest is None else [latest]
    else:
        given = [given_at for (given_at,) in _GIVEN_AT.rows(trial.patient_id)]
    return protocol.earliest_test_dose(given)


def next_dose(trial: ScreeningTrial) -> tuple[int | None, object, object]:
    """(number, mcg, due_at) of the next test dose, or (None, None, None) when none may follow. `due_at` is None
    when it may be given now (S3, across the patient's trials: S11). A dose entered in error frees its rung (D4)."""
    doses = in_force(trial.doses.all())
    if trial.state != TrialState.AWAITING_DOSE or len(doses) >= protocol.MAX_TEST_DOSES:
        return None, None, None
    number = len(doses) + 1
    due_at = earliest_test_dose_at(trial)
    if due_at is not None and due_at <= timezone.now():
        due_at = None
    return number, protocol.ladder_dose_mcg(number, trial.first_dose_mcg), due_at


def observations_due(dose: TestDose) -> list[datetime]:
    """S5: when the observations after this dose are due."""
    return protocol.observation_schedule(dose.administered_at, current_policy())


def slot_is_charted(observations: QuerySet[Observation], slot_due: datetime) -> bool:
    """A1: whether one of these observations (a trial's after a test dose, a patient's after a refill, R6) fills the
    one due at `slot_due`; records entered in error do not (D4)."""
    policy = current_policy()
    window = timedelta(minutes=policy.observation_slot_minutes)
    charted = observations.filter(
        observed_at__range=(slot_due - window, slot_due + window), entered_in_error_at__isnull=True
    )
    return any(protocol.observation_fills_slot(o.observed_at, slot_due, policy) for o in charted)


def baseline_and_window(dose: TestDose, earlier_doses: list[TestDose], observations: list[Observation]):
    """S5/S7: the dose's baseline is the last observation before it and after the previous dose's window; its
    window holds the observations 4-8 h after it. Records entered in error count for neither (D4)."""
    earlier_doses, observations = in_force(earlier_doses), in_force(observations)
    window_end = timedelta(hours=protocol.ASSESSMENT_WINDOW_HOURS[1])
    not_before = earlier_doses[-1].administered_at + window_end if earlier_doses else None
    before = [
        o
        for o in observations
        if o.observed_at < dose.administered_at and (not_before is None or o.observed_at > not_before)
    ]
    window = [o for o in observations if protocol.in_assessment_window(dose.administered_at, o.observed_at)]
    return (before[-1] if before else None), window


def suggestion_for(
    dose: TestDose, earlier_doses: list[TestDose], observations: list[Observation]
) -> protocol.Suggestion:
    baseline, window = baseline_and_window(dose, earlier_doses, observations)
    as_scores = lambda o: protocol.Scores(o.ashworth_mean, o.penn_spasm_frequency)  # noqa: E731
    return protocol.suggest_response(
        as_scores(baseline) if baseline else None, [as_scores(o) for o in window], current_policy()
    )


def current_suggestion(trial: ScreeningTrial) -> protocol.Suggestion | None:
    """S7 for the dose being observed, from the prefetched doses and observations."""
    if trial.state != TrialState.OBSERVING:
        return None
    doses = in_force(trial.doses.all())
    return suggestion_for(doses[-1], doses[:-1], list(trial.observations.all()))


def closed_trial_refusal(trial: ScreeningTrial) -> WorkflowConflict:
    """Why nothing more is charted on a trial that is not open."""
    if trial.state == TrialState.SUSPENDED:
        return WorkflowConflict("The trial is suspended pending neurologist review.", rule="S10")
    return WorkflowConflict(f"The trial is closed ({trial.state}).", rule="S9")


def has_pump_in_place(patient) -> bool:
    """T13: the patient has a pump that has not been explanted (a reverse relation: titration is built on
    screening)."""
    return patient.pumps.filter(explanted_at__isnull=True).exists()


def intrathecal_infusion_started(patient, at: datetime) -> bool:
    """W1: whether, at `at`, the patient's intrathecal infusion has started (a pump in place, or explanted within
    the policy's days); before it, withdrawal-list signs are adverse effects of a test bolus."""
    explanted = list(patient.pumps.values_list("explanted_at", flat=True))
    return protocol.intrathecal_infusion_started(explanted, at, current_policy())


def last_decided_trial(patient) -> ScreeningTrial | None:
    """S11: the patient's latest trial that ended in a candidacy decision (candidate or not_candidate)."""
    return patient.screening_trials.filter(state__in=DECIDED_STATES).order_by("-opened_at", "-id").first()


def open_trial_overrides(patient) -> tuple[str, ...]:
    """The rules under which opening a trial for `patient` needs a neurologist's written override
    (`override_reason`): P2 (under 4 years) and S11 (re-screening after a not_candidate result; a cancelled trial
    in between does not lift it). Empty when none is needed: the page asks for the reason when it is not."""
    rules = []
    if patient.age_years(ward_today()) < protocol.MIN_SCREENING_AGE_YEARS:
        rules.append("P2")
    last = last_decided_trial(patient)
    if last is not None and last.state == TrialState.NOT_CANDIDATE:
        rules.append("S11")
    return tuple(rules)


def open_trial_refusal(actor, patient=None) -> DomainError | None:
    """Why `actor` may not open a screening trial for `patient` now, or None. The first dose (S2) and the override
    reason (P2, S11: `open_trial_overrides`) depend on what is entered, and are checked by the act itself. Without a
    patient: whether the actor may open trials at all."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="S1", doing="open a screening trial"):
        return refusal
    if patient is None:
        return None
    if has_pump_in_place(patient):
        return WorkflowConflict(
            "T13: this patient has a pump in place; a screening trial may be opened only once it is explanted.",
            rule="T13",
        )
    if current_trials(patient).exists():
        return WorkflowConflict("This patient already has an open screening trial.", rule="S1")
    last = last_decided_trial(patient)
    # S11: a candidate awaits the implant that trial leads to (T1); a pump from it, since explanted, ends the wait.
    candidate = last is not None and last.state == TrialState.CANDIDATE
    if candidate and not patient.pumps.filter(screening_trial=last).exists():
        return WorkflowConflict(
            "S11: this patient's last screening trial made them a candidate; the implant follows (T1), not another "
            "trial.",
            rule="S11",
        )
    return None


def may_open_trial(actor, patient) -> bool:
    return open_trial_refusal(actor, patient) is None


def give_dose_refusal(actor, trial: ScreeningTrial) -> DomainError | None:
    """Why `actor` may not give the trial's next test dose now, or None. The dose, its time (S3) and its
    preparation (S1, S4) are checked by the act itself."""
    if refusal := role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="S4", doing="give a test dose"):
        return refusal
    if trial.state == TrialState.OBSERVING:
        return WorkflowConflict("The previous test dose has not been assessed yet (S6, S9).", rule="S9")
    if trial.state != TrialState.AWAITING_DOSE:
        return closed_trial_refusal(trial)
    if trial.patient.active_infection:
        return WorkflowConflict(
            "P1: the patient has a charted active infection; no test dose until it is charted resolved.", rule="P1"
        )
    return None


def may_give_dose(actor, trial: ScreeningTrial) -> bool:
    return give_dose_refusal(actor, trial) is None


def trial_change_refusal(actor, rule: str) -> DomainError | None:
    """S10: a neurologist suspends, resumes or cancels a trial, with a reason."""
    return role_refusal(actor, Role.NEUROLOGIST, rule=rule, doing="suspend, resume or cancel a trial")


def resume_refusal(actor, trial: ScreeningTrial | None = None) -> DomainError | None:
    """S10, P1: a neurologist resumes a suspended trial after review, never while an infection is charted. Without a
    trial: whether the actor may resume trials at all."""
    if refusal := trial_change_refusal(actor, "S10"):
        return refusal
    if trial is None:
        return None
    if trial.state != TrialState.SUSPENDED:
        return WorkflowConflict(f"Only a suspended trial can be resumed (it is {trial.state}).", rule="S10")
    if trial.patient.active_infection:
        return WorkflowConflict("P1: chart the active infection resolved before screening resumes.", rule="P1")
    return None


def may_resume(actor, trial: ScreeningTrial) -> bool:
    return resume_refusal(actor, trial) is None


def cancel_refusal(actor, trial: ScreeningTrial | None = None) -> DomainError | None:
    """S1: a neurologist cancels an open or suspended trial, which then decides nothing (S11). Without a trial:
    whether the actor may cancel trials at all."""
    if refusal := trial_change_refusal(actor, "S1"):
        return refusal
    if trial is not None and trial.state not in CURRENT_STATES:
        return closed_trial_refusal(trial)
    return None


def may_cancel(actor, trial: ScreeningTrial) -> bool:
    return cancel_refusal(actor, trial) is None


# --- V1/V2: early warning score and the pre-dose check -----------------------------------------------------------


def news2_values(observation: Observation) -> dict:
    """V1: what NEWS2 scores, from an observation's fields."""
    return {name: getattr(observation, name) for name in protocol.NEWS2_LABELS}


def observation_news2(observation: Observation) -> protocol.News2:
    """V1: the NEWS2 stored when the observation was charted; one charted before V1 is scored from its values."""
    if observation.news2_score is None:
        return protocol.news2(policy=current_policy(), **news2_values(observation))
    return protocol.News2(
        observation.news2_score, protocol.News2Risk(observation.news2_risk), dict(observation.news2_parameters)
    )


def scored_observations(patient) -> QuerySet[Observation]:
    """V1/V2: the patient's observations that count, those entered in error left out (D4). `patient` may be a
    patient, its id or an outer reference."""
    return Observation.objects.filter(patient=patient, entered_in_error_at__isnull=True)


# Every test dose sends it (V2): compiled once; -1 the patient, then the window's start and end.
_WINDOW = time_placeholders(2)
_LATEST_BASELINE = CompiledRows(
    Observation,
    lambda patient, since, until: (
        scored_observations(patient)
        .filter(observed_at__gte=since, observed_at__lt=until)
        .order_by("-observed_at", "-id")[:1]
    ),
    placeholders=(-1, *_WINDOW),
)


def predose_check(patient, at: datetime) -> protocol.PredoseCheck:
    """V2: a test dose for `patient` at `at` checked against the latest observation charted in the hour (policy)
    before it."""
    policy = current_policy()
    since, until = protocol.predose_window(at, policy)
    if (baseline := _LATEST_BASELINE.first(patient.pk, since, until)) is None:
        return protocol.predose_check(None, None, None, policy)
    return protocol.predose_check(baseline.observed_at, observation_news2(baseline), baseline.respiratory_rate, policy)


def predose_refusal(check: protocol.PredoseCheck) -> WorkflowConflict | None:
    """V2: why the pre-dose check refuses the dose, carrying the baseline's NEWS2 (None without a baseline)."""
    if check.ok:
        return None
    charted = f" Baseline charted {shown(check.baseline_at)}." if check.baseline_at else ""
    return WorkflowConflict(
        " ".join(check.problems) + charted + " A neurologist may override with a written reason (override_reason).",
        rule="V2",
        news2=check.news2.as_dict() if check.news2 else None,
        baseline_at=check.baseline_at,
    )


def predose_override_refusal(actor) -> DomainError | None:
    """V2: only a neurologist overrides a refused pre-dose check."""
    return role_refusal(actor, Role.NEUROLOGIST, rule="V2", doing="override the pre-dose check")


def may_override_predose(actor) -> bool:
    return predose_override_refusal(actor) is None


def assess_refusal(actor, dose: TestDose) -> DomainError | None:
    """Why `actor` may not assess the response to `dose` now, or None. Whether a 4 h observation is charted by the
    time of the assessment (S6) is checked by the act itself."""
    if refusal := role_refusal(actor, Role.NEUROLOGIST, rule="S6", doing="assess a response"):
        return refusal
    if hasattr(dose, "assessment"):
        return WorkflowConflict(f"Test dose {dose.number} has already been assessed.", rule="S6")
    if dose.entered_in_error:
        return WorkflowConflict(f"D4: test dose {dose.number} was entered in error; it is not assessed.", rule="D4")
    if dose.trial.state != TrialState.OBSERVING:
        return closed_trial_refusal(dose.trial)
    return None


def may_assess(actor, dose: TestDose) -> bool:
    return assess_refusal(actor, dose) is None


def correction_refusal(actor, patient=None, record=None) -> DomainError | None:
    """D4: a nurse or neurologist of the patient's ward marks a charted record entered in error, once. Without a
    patient: whether the actor may mark records at all."""
    if refusal := role_refusal(actor, Role.NURSE, Role.NEUROLOGIST, rule="D4", doing="mark a record entered in error"):
        return refusal
    if patient is not None and patient.ward_id not in actor.ward_ids:
        return RoleNotAllowed("D4: only a clinician of the patient's ward may mark its records entered in error.",
                              rule="D4")  # fmt: skip
    if record is not None and record.entered_in_error:
        return WorkflowConflict(
            f"D4: this record was already marked entered in error on {shown(record.entered_in_error_at)} "
            f"({record.entered_in_error_reason}).",
            rule="D4",
        )
    return None


def dose_correction_refusal(actor, dose: TestDose) -> DomainError | None:
    """D4: a test dose is marked entered in error only while unassessed: the assessment decided the ladder (S9) and
    is corrected first."""
    if refusal := correction_refusal(actor, dose.trial.patient, dose):
        return refusal
    if hasattr(dose, "assessment"):
        return WorkflowConflict(
            f"D4: test dose {dose.number} has been assessed ({dose.assessment.response}); the assessment must be "
            "corrected first.",
            rule="D4",
        )
    return None


def may_correct(actor, patient, record) -> bool:
    return correction_refusal(actor, patient, record) is None


def may_correct_dose(actor, dose: TestDose) -> bool:
    return dose_correction_refusal(actor, dose) is None
