"""Read models for the ward pages: each page's data in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from alerts import kinds as alert_kinds
from alerts.models import Alert, DueCheck
from alerts.selectors import STILL_OPEN, AlertGroup, with_problem
from screening import kinds as screening_kinds
from screening import selectors as screening
from screening.models import Observation, ScreeningTrial, TestDose
from titration import kinds as titration_kinds
from titration import selectors as titration
from titration.models import DoseChange, Pump, Refill
from wardflow import protocol
from wardflow.clinical_time import clock_text, ward_local, ward_today
from wardflow.errors import RoleNotAllowed
from wardflow.patients.models import Patient
from wardflow.patients.selectors import may_chart_flags, visible_patients
from wardflow.policy import current_policy
from wardflow.protocol import TrialState
from wardflow.staff.models import Role

SEVERITY_RANK = {"urgent": 0, "warning": 1, "info": 2}
DUE_LABELS = {
    kind: kind.label
    for kinds in (screening_kinds.CheckKind, titration_kinds.CheckKind, alert_kinds.CheckKind)
    for kind in kinds
}


@dataclass
class BoardRow:
    patient: Patient
    phase: str
    next_due_label: str = ""
    next_due_at: datetime | None = None
    alerts: list[Alert] = field(default_factory=list)
    news2_score: int | None = None  # V1: of the latest observation that counts
    news2_risk: str = ""
    cautions: list["Caution"] = field(default_factory=list)  # P1, P3, P4, P5 (NEWS2 has its own column)
    alert_groups: list[AlertGroup] = field(default_factory=list)  # one per open problem, most pressing first

    @property
    def worst_severity(self) -> str | None:
        return min((a.severity for a in self.alerts), key=SEVERITY_RANK.get, default=None)

    def sort_key(self, now: datetime):
        overdue = self.next_due_at is not None and self.next_due_at <= now
        return (
            SEVERITY_RANK.get(self.worst_severity, 3),
            not overdue,
            self.next_due_at or datetime.max.replace(tzinfo=now.tzinfo),
            self.patient.family_name,
        )


# A1: an observation stays due until it is charted, whether or not its overdue alert was acknowledged: its check is
# done once the alert is raised, and the alert is resolved only by the observation (or the end of what it watched).
UNCHARTED = Q(state=Alert.State.ACKNOWLEDGED, kind=screening_kinds.AlertKind.OBSERVATION_OVERDUE)
OBSERVATION_LABEL = screening_kinds.CheckKind.OBSERVATION_OVERDUE.label


def alert_groups(alerts: list[Alert]) -> list[AlertGroup]:
    """A patient's open alerts (annotated with their problem), one group per problem, most pressing first."""
    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in sorted(alerts, key=lambda a: (a.raised_at, a.pk), reverse=True):
        groups[alert.problem].append(alert)
    problems = [AlertGroup(alerts=group) for group in groups.values()]
    return sorted(problems, key=lambda g: (SEVERITY_RANK[g.severity], not g.escalated))


def _shown_due(check: DueCheck) -> datetime:
    """An observation check fires at its overdue time; the board shows when the observation itself is due."""
    slot = check.payload.get("slot_due_at")
    return datetime.fromisoformat(slot) if slot else check.due_at


def ward_board(user, now: datetime) -> list[BoardRow]:
    """The caller's ward: every patient's phase, next due item and open alerts, most pressing first."""
    # V1: the latest NEWS2 of each patient, read in the patients' own query (entered in error left out, D4).
    latest = screening.scored_observations(OuterRef("pk")).order_by("-observed_at", "-id")
    patients = list(
        visible_patients(user)
        .annotate(
            latest_news2_score=Subquery(latest.values("news2_score")[:1]),
            latest_news2_risk=Subquery(latest.values("news2_risk")[:1]),
        )
        .order_by("family_name", "given_name")
    )
    ids = [p.pk for p in patients]
    trials = {
        t.patient_id: t
        for t in ScreeningTrial.objects.filter(patient__in=ids)
        .order_by("opened_at")
        .annotate(dose_count=Count("doses", filter=Q(doses__entered_in_error_at__isnull=True)))  # D4
    }
    pumps = {
        p.patient_id: p
        for p in Pump.objects.filter(patient__in=ids, explanted_at__isnull=True).select_related("active_change")
    }
    due: dict[int, list[DueCheck]] = defaultdict(list)
    for check in DueCheck.objects.filter(patient__in=ids, state=DueCheck.State.PENDING).exclude(
        kind=alert_kinds.CheckKind.ESCALATE
    ):
        due[check.patient_id].append(check)
    open_alerts: dict[int, list[Alert]] = defaultdict(list)
    uncharted: dict[int, list[Alert]] = defaultdict(list)
    for alert in with_problem(Alert.objects.filter(patient__in=ids).filter(UNCHARTED | Q(state__in=STILL_OPEN))):
        if alert.state in STILL_OPEN:
            open_alerts[alert.patient_id].append(alert)
        if alert.kind == screening_kinds.AlertKind.OBSERVATION_OVERDUE and alert.due_at:
            uncharted[alert.patient_id].append(alert)
    rows, today = [], ward_today(now)
    for patient in patients:
        row = BoardRow(patient=patient, phase=_phase(trials.get(patient.pk), pumps.get(patient.pk)),
                       alerts=sorted(open_alerts[patient.pk], key=lambda a: SEVERITY_RANK[a.severity]),
                       news2_score=patient.latest_news2_score, news2_risk=patient.latest_news2_risk or "",
                       cautions=patient_cautions(patient, today))  # fmt: skip
        row.alert_groups = alert_groups(row.alerts)
        items = [(_shown_due(c), DUE_LABELS.get(c.kind, c.kind)) for c in due[patient.pk]]
        items += [(a.due_at, OBSERVATION_LABEL) for a in uncharted[patient.pk]]
        if items:
            row.next_due_at, row.next_due_label = min(items, key=lambda item: item[0])
        rows.append(row)
    return sorted(rows, key=lambda r: r.sort_key(now))


def _phase(trial: ScreeningTrial | None, pump: Pump | None) -> str:
    if pump is not None:
        dose = f", {pump.active_change.new_daily_dose_mcg} mcg/day" if pump.active_change else ", initial dose pending"
        return f"Implanted: {pump.phase}{dose}"
    if trial is None:
        return "Registered"
    if trial.state == TrialState.AWAITING_DOSE:
        return f"Screening: awaiting test dose {trial.dose_count + 1}"
    if trial.state == TrialState.OBSERVING:
        return f"Screening: observing test dose {trial.dose_count}"
    return f"Screening: {trial.state.replace('_', ' ')}"


@dataclass
class PatientPage:
    patient: Patient
    trial: ScreeningTrial | None
    doses: list[TestDose]
    observations: list[Observation]
    pump: Pump | None
    dose_changes: list[DoseChange]
    alerts: list[Alert]
    refills: list[Refill]


def patient_page(user, pk: int) -> PatientPage:
    patient = visible_patients(user).get(pk=pk)
    trial = (
        ScreeningTrial.objects.filter(patient=patient)
        .prefetch_related(
            Prefetch(
                "doses",
                queryset=TestDose.objects.select_related(
                    "given_by", "assessment", "assessment__assessed_by", "entered_in_error_by"
                ),
            ),
        )
        .order_by("-opened_at")
        .first()
    )
    # T13: the pump in place; after an explant without replacement the last one stays on the page as history.
    pump = titration.pump_in_place(patient) or (
        Pump.objects.filter(patient=patient).select_related("active_change").order_by("-implanted_at").first()
    )
    changes, refills = [], []
    if pump is not None:
        changes = list(
            pump.dose_changes.select_related("proposed_by", "approved_by", "programmed_by", "read_back_by").order_by(
                "-proposed_at"
            )
        )
        label_statuses(changes)
        # D4: every refill, those entered in error struck through.
        refills = list(
            pump.refills.select_related("refilled_by", "entered_in_error_by")
            .prefetch_related("adjustments")
            .order_by("-refilled_at", "-id")
        )
    return PatientPage(
        patient=patient,
        trial=trial,
        doses=list(trial.doses.all()) if trial else [],
        observations=list(
            Observation.objects.filter(patient=patient)
            .select_related("charted_by", "entered_in_error_by")
            .order_by("observed_at")
        ),
        pump=pump,
        dose_changes=changes,
        alerts=list(patient.alerts.filter(Q(state=Alert.State.OPEN) | Q(state=Alert.State.ESCALATED))),
        refills=refills,
    )


def label_statuses(changes: list[DoseChange]) -> None:
    """Each change's status in words (`status_label`): one set aside by a later change of the same pump (T6: a
    reduction proposed at the moment it was rejected; or a later program put in force) reads "superseded by a
    later change", never "rejected" beside its signature."""
    reduction = protocol.DoseChangeKind.ADVERSE_EFFECT_REDUCTION
    for change in changes:
        replaced_by_proposal = change.state == DoseChange.State.REJECTED and any(
            other.pk > change.pk and other.kind == reduction and other.proposed_at == change.rejected_at
            for other in changes
        )
        superseded = change.state == DoseChange.State.SUPERSEDED or replaced_by_proposal
        change.status_label = "superseded by a later change" if superseded else change.get_state_display().lower()


def latest_scored(observations: list[Observation]) -> Observation | None:
    """V1: the latest observation that counts (entered in error left out, D4): the page shows its NEWS2."""
    counted = screening.in_force(observations)
    return counted[-1] if counted else None


@dataclass(frozen=True)
class Caution:
    """One item of the caution strip shown where a dose is decided: what it is, its rule, plain words, and how
    pressing it is (urgent, warning or info, also written out so colour is never the only sign)."""

    kind: str
    rule: str
    text: str
    severity: str
    short: str  # the board's marker
    at: datetime | None = None


def patient_cautions(patient: Patient, today) -> list[Caution]:
    """P1, P3, P4, P5: what the patient's record says to weigh at every dose decision, from the patient alone (no
    query: the board computes it for every row)."""
    items = []
    if patient.active_infection:
        items.append(Caution("infection", "P1", "Active infection charted: no test dose or implant until it is "
                             "charted resolved.", "urgent", "active infection"))  # fmt: skip
    for caution in patient.cautions(today):
        rule, text = caution.split(": ", 1)
        kind = "antispasmodics" if rule == "P3" else "p5"
        items.append(Caution(kind, rule, text[0].upper() + text[1:], "warning",
                             "oral antispasmodics: taper" if rule == "P3" else text.split(":", 1)[0]))  # fmt: skip
    if patient.high_withdrawal_risk:
        factors = "; ".join(label for name, label in protocol.WITHDRAWAL_RISK_FACTORS.items() if getattr(patient, name))
        days = current_policy().high_risk_first_reminder_days
        items.append(Caution("withdrawal", "P4", f"High withdrawal risk ({factors}): never let the reservoir run "
                             f"dry or the therapy stop abruptly; refill reminders start {days} days ahead (R4).",
                             "warning", "high withdrawal risk"))  # fmt: skip
    return items


def caution_strip(patient: Patient, today, observations: list[Observation] | None = None) -> list[Caution]:
    """The caution strip of a dose decision screen: the patient's cautions and, once one exists, the latest NEWS2
    (V1). `observations`: the patient's observations when the page already holds them; read otherwise."""
    items = patient_cautions(patient, today)
    if observations is None:
        latest = screening.scored_observations(patient).order_by("-observed_at", "-id").first()
    else:
        latest = latest_scored(observations)
    if latest is not None and latest.news2_score is not None:
        risk = latest.news2_risk.replace("_", "-")
        # V1: shown as urgent exactly when the observation raised (or would raise) the urgent early-warning alert.
        severity = "urgent" if protocol.news2_needs_urgent_review(latest.news2_risk) else "info"
        items.append(Caution("news2", "V1", f"Latest NEWS2 {latest.news2_score} ({risk} risk)", severity,
                             f"NEWS2 {latest.news2_score}", latest.observed_at))  # fmt: skip
    return items


def news2_form_policy() -> dict:
    """V1: the scoring table and risk thresholds of the policy in force, for the charting form's script
    (static/js/news2-form.js), which holds no number of its own."""
    policy = current_policy()
    bands = {name: {"edges": list(edges), "scores": list(scores)}
             for name, (edges, scores) in protocol.news2_bands(policy).items()}  # fmt: skip
    return {
        "bands": bands,
        "oxygen_score": policy.news2_oxygen_score,
        "not_alert_score": policy.news2_not_alert_score,
        "alert": protocol.Sedation.ALERT,
        "single_parameter_red": policy.news2_single_parameter_red,
        "medium_from": policy.news2_medium_from,
        "high_from": policy.news2_high_from,
        "labels": protocol.NEWS2_LABELS,
    }


@dataclass(frozen=True)
class TimePoint:
    """A time point of the observation schedule (S5 after a test dose, R6 after a refill) on the charting form."""

    key: str
    label: str
    at: datetime | None  # None: the baseline, charted any time before the dose
    charted: bool = False
    window_of: TestDose | None = None  # S6: the dose whose 4-8 h assessment window this time point is in

    def warnings(self, observed_at: datetime) -> list[str]:
        """A1, S6: why an observation at `observed_at` would not count where this time point expects it; the form
        asks for confirmation, the service charts it either way."""
        found = []
        if self.at is not None and not protocol.observation_fills_slot(observed_at, self.at, current_policy()):
            found.append(self.slot_warning)
        if self.window_of and not protocol.in_assessment_window(self.window_of.administered_at, observed_at):
            found.append(self.window_warning)
        return found

    @property
    def slot_warning(self) -> str:
        minutes = current_policy().observation_slot_minutes
        return (f"This time is outside the {self.label} time point ({minutes} min either side of "
                f"{clock_text(self.at, timezone.now())}, A1): it will not count for that time point.")  # fmt: skip

    @property
    def window_warning(self) -> str:
        low, high = protocol.ASSESSMENT_WINDOW_HOURS
        return (f"This time is outside the {low}-{high} h assessment window of test dose {self.window_of.number} "
                "(S6): it will not count for the assessment of that dose.")  # fmt: skip

    def as_script(self) -> dict:
        """What the form's script needs to warn before submit (static/js/observation-form.js): ward times as the
        time input shows them, and the warnings' words."""
        policy, shown = current_policy(), (lambda t: f"{ward_local(t):%Y-%m-%dT%H:%M}")
        data = {"at": shown(self.at) if self.at else None, "slot": None, "window": None}
        if self.at is not None:
            tolerance = timedelta(minutes=policy.observation_slot_minutes)
            data |= {"slot": [shown(self.at - tolerance), shown(self.at + tolerance)],
                     "slot_warning": self.slot_warning}  # fmt: skip
        if self.window_of is not None:
            given, (low, high) = self.window_of.administered_at, protocol.ASSESSMENT_WINDOW_HOURS
            data |= {"window": [shown(given + timedelta(hours=low)), shown(given + timedelta(hours=high))],
                     "window_warning": self.window_warning}  # fmt: skip
        return data


def charting_time_points(patient, now: datetime) -> tuple[list[TimePoint], str]:
    """The charting form's time points: the baseline before the next test dose (S5, V2), the hours after the
    current trial's latest test dose (S5), and the observation after the latest refill (R6); with the key of the one
    due now (the nearest uncharted one whose time has come), or "" when none is."""
    policy, points, baseline = current_policy(), [], None
    trial = screening.current_trials(patient).first()
    observations = Observation.objects.filter(patient=patient)
    if trial is not None:
        doses = screening.in_force(list(trial.doses.all()))
        if trial.state == TrialState.AWAITING_DOSE:
            baseline = TimePoint("baseline", f"baseline before test dose {len(doses) + 1}", None)
            points.append(baseline)
        if doses:
            dose, (low, high) = doses[-1], protocol.ASSESSMENT_WINDOW_HOURS
            for hours, at in zip(policy.observation_hours, screening.observations_due(dose), strict=True):
                points.append(TimePoint(f"dose-{dose.pk}-{hours}", f"{hours} h after test dose {dose.number}", at,
                                        charted=screening.slot_is_charted(observations, at),
                                        window_of=dose if low <= hours <= high else None))  # fmt: skip
    pump = titration.pump_in_place(patient)
    refill = pump and titration.last_refill(pump)
    at = refill and refill.refilled_at + timedelta(hours=policy.refill_observation_hours)
    # Offered for late entry as long as a test dose's schedule runs (S5), not for ever after the refill.
    if refill and now <= at + timedelta(hours=max(policy.observation_hours)):
        points.append(TimePoint(f"refill-{refill.pk}", f"{policy.refill_observation_hours} h after the refill (R6)",
                                at, charted=screening.slot_is_charted(observations, at)))  # fmt: skip
    tolerance = timedelta(minutes=policy.observation_slot_minutes)
    timed = [p for p in points if p.at is not None]
    schedule_over = all(p.at + tolerance <= now for p in timed)
    come = [p for p in timed if not p.charted and p.at - tolerance <= now]
    # The baseline once the latest dose's schedule is over; else the uncharted time point nearest to now.
    due = baseline if baseline and schedule_over else max(come, key=lambda p: p.at, default=None)
    return points, due.key if due else ""


def assessment_rows(dose: TestDose, baseline: Observation | None, window: list[Observation]) -> list[tuple]:
    """S6/S7: the observations the suggestion compares, each with its time as hours after the dose ("4.5 h"; the
    baseline "0.5 h before"), as (label, observation, hours)."""
    rows = []
    for label, observation in [("Baseline", baseline)] * bool(baseline) + [("4-8 h window", o) for o in window]:
        hours = Decimal((observation.observed_at - dose.administered_at).total_seconds()) / 3600
        hours = hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        rows.append((label, observation, f"{hours} h" if hours >= 0 else f"{-hours} h before"))
    return rows


def allowed_ranges(pump: Pump, kinds, today) -> list[str]:
    """T3-T6, T11, T14: for each kind of change offered, the daily doses the service accepts without an override,
    in mcg/day, from the same bands and restart check it applies."""
    active = pump.active_change.new_daily_dose_mcg if pump.active_change else None
    patient = pump.patient
    age = protocol.age_band(patient.date_of_birth, today, current_policy())
    origin = protocol.SpasticityOrigin(patient.spasticity_origin)
    ranges = []
    for kind in kinds:
        name = kind.value.replace("_", " ")
        if kind == protocol.DoseChangeKind.RESTART:
            if last := titration.last_nonzero_daily_dose(pump):
                check = protocol.check_restart(last, last)
                ranges.append(f"{name}: {check.allowed_min_mcg} to {check.allowed_max_mcg} mcg/day (T14)")
        elif active and (band := protocol.allowed_band(kind, origin, age)):
            low, high = protocol.allowed_range_mcg(active, band)
            ranges.append(f"{name}: {low} to {high} mcg/day ({band.rule})")
    return ranges


def approval_queue(user):
    """Proposed dose changes on the caller's wards, oldest first (T9)."""
    return (
        DoseChange.objects.filter(pump__patient__in=visible_patients(user), state=DoseChange.State.PROPOSED)
        .select_related("pump", "pump__patient", "proposed_by")
        .order_by("proposed_at")
    )


def programming_queue(user):
    """Signed dose changes waiting for the nurse's programming, and programmed ones waiting for their independent
    read-back (T12), oldest first. No approved value is shown from here."""
    waiting = (DoseChange.State.APPROVED, DoseChange.State.PROGRAMMED)
    return (
        DoseChange.objects.filter(pump__patient__in=visible_patients(user), state__in=waiting)
        .select_related("pump", "pump__patient")
        .order_by("earliest_at", "id")
    )


@dataclass(frozen=True)
class QueueEntry:
    change: DoseChange
    act: str  # "program" or "read-back": what the caller does next on it
    why_not_now: str = ""  # when or by whom it can be done, when not by the caller now


def programming_worklist(user, now: datetime) -> tuple[list[QueueEntry], list[QueueEntry]]:
    """The programming queue split into what the caller can program or read back now, and the rest with when or by
    whom it can be: each asked of the same refusals the programming services raise (T3, T9, T12)."""
    ready, later = [], []
    for change in programming_queue(user):
        if change.state == DoseChange.State.APPROVED:
            act = "program"
            refusal = titration.programming_refusal(user, change) or titration.programming_time_refusal(change, now)
        else:
            act, refusal = "read-back", titration.readback_refusal(user, change)
        if refusal is None:
            ready.append(QueueEntry(change, act))
        elif earliest := refusal.extra.get("earliest_at"):
            later.append(QueueEntry(change, act, f"not before {clock_text(earliest, now)} ({refusal.rule})"))
        else:
            later.append(QueueEntry(change, act, refusal.detail))
    return ready, later


@dataclass
class PatientActs:
    """What the caller may do from the patient page now: each answer comes from the selector that the service
    itself refuses by, so the page never offers an act the service would refuse for its state or role."""

    open_trial: bool
    open_trial_overrides: tuple[str, ...]
    give_dose: bool
    implant: bool
    propose: bool
    refill: bool
    restart: bool
    explant: bool
    replace: bool
    assess: set[int]
    program: set[int]
    read_back: set[int]
    # T12: changes waiting for a read-back this user might give: their approved values are not shown.
    blind: set[int]
    # D4: the records this user may mark entered in error.
    correct_observations: set[int]
    correct_doses: set[int]
    correct_refills: set[int]
    resume: bool
    cancel: bool
    # T5: the phase the pump may be moved to by this user, or "".
    change_phase: str
    chart_infection: bool
    # Who does the acts this user's role may not, in one plain line.
    others: str


def patient_acts(user, page: PatientPage) -> PatientActs:
    trial, pump = page.trial, page.pump
    return PatientActs(
        open_trial=screening.may_open_trial(user, page.patient),
        open_trial_overrides=screening.open_trial_overrides(page.patient),
        give_dose=trial is not None and screening.may_give_dose(user, trial),
        implant=trial is not None and pump is None and titration.may_implant(user, trial),
        propose=pump is not None and titration.may_propose(user, pump),
        refill=pump is not None and titration.may_refill(user, pump),
        restart=pump is not None
        and titration.may_propose(user, pump)
        and titration.restart_refusal(user, pump) is None,
        explant=pump is not None and titration.may_explant(user, pump),
        replace=pump is not None and titration.may_replace(user, pump),
        assess={d.pk for d in page.doses if screening.may_assess(user, d)},
        program={c.pk for c in page.dose_changes if titration.may_program(user, c)},
        read_back={c.pk for c in page.dose_changes if titration.may_read_back(user, c)},
        blind={c.pk for c in page.dose_changes if titration.approved_values_hidden(user, c)},
        correct_observations={o.pk for o in page.observations if screening.may_correct(user, page.patient, o)},
        correct_doses={d.pk for d in page.doses if screening.may_correct_dose(user, d)},
        correct_refills={r.pk for r in page.refills if titration.may_correct_refill(user, pump, r)},
        resume=trial is not None and screening.may_resume(user, trial),
        cancel=trial is not None and screening.may_cancel(user, trial),
        change_phase=titration.next_phase(pump) if pump is not None and titration.may_change_phase(user, pump) else "",
        chart_infection=may_chart_flags(user),
        others=others_line(user),
    )


# The acts of one role alone, as the patient page names them to the other role; each is asked of its refusal selector
# without a record, which answers for the role alone.
ROLE_ACTS = (
    ("opening screening", screening.open_trial_refusal),
    ("resuming or cancelling a trial", screening.resume_refusal),
    ("approving dose changes", titration.approval_refusal),
    ("moving a pump to maintenance", titration.phase_refusal),
    ("confirming the pump programming", titration.programming_refusal),
)


def others_line(user) -> str:
    """E.g. "Opening screening and approving dose changes are the neurologist's acts.": the acts of ROLE_ACTS this
    user's role may not do, each with the role that does it."""
    by_owner: dict[str, list[str]] = defaultdict(list)
    for act, refusal in ROLE_ACTS:
        if isinstance(refusal(user), RoleNotAllowed):
            owners = [role for role in (Role.NURSE, Role.NEUROLOGIST) if refusal(SimpleNamespace(role=role)) is None]
            by_owner[" or ".join(owners)].append(act)
    sentences = []
    for owner, acts in by_owner.items():
        named = acts[0] if len(acts) == 1 else f"{', '.join(acts[:-1])} and {acts[-1]}"
        verb = "is" if len(acts) == 1 else "are"
        sentences.append(f"{named[0].upper()}{named[1:]} {verb} the {owner}'s act{'s' if len(acts) > 1 else ''}.")
    return " ".join(sentences)
