"""Read models for the ward pages: each page's data in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery

from alerts import kinds as alert_kinds
from alerts.models import Alert, DueCheck
from alerts.selectors import may_acknowledge
from screening import kinds as screening_kinds
from screening import selectors as screening
from screening.models import Observation, ScreeningTrial, TestDose
from titration import kinds as titration_kinds
from titration import selectors as titration
from titration.models import DoseChange, Pump, Refill
from wardflow import protocol
from wardflow.patients.models import Patient
from wardflow.patients.selectors import visible_patients
from wardflow.policy import current_policy
from wardflow.protocol import TrialState

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
    for alert in Alert.objects.filter(patient__in=ids, state__in=[Alert.State.OPEN, Alert.State.ESCALATED]):
        open_alerts[alert.patient_id].append(alert)
    rows = []
    for patient in patients:
        row = BoardRow(patient=patient, phase=_phase(trials.get(patient.pk), pumps.get(patient.pk)),
                       alerts=sorted(open_alerts[patient.pk], key=lambda a: SEVERITY_RANK[a.severity]),
                       news2_score=patient.latest_news2_score, news2_risk=patient.latest_news2_risk or "")  # fmt: skip
        if checks := due[patient.pk]:
            first = min(checks, key=_shown_due)
            row.next_due_label, row.next_due_at = DUE_LABELS.get(first.kind, first.kind), _shown_due(first)
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
                    "assessment", "assessment__assessed_by", "entered_in_error_by"
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
            Observation.objects.filter(patient=patient).select_related("entered_in_error_by").order_by("observed_at")
        ),
        pump=pump,
        dose_changes=changes,
        alerts=list(patient.alerts.filter(Q(state=Alert.State.OPEN) | Q(state=Alert.State.ESCALATED))),
        refills=refills,
    )


def latest_scored(observations: list[Observation]) -> Observation | None:
    """V1: the latest observation that counts (entered in error left out, D4): the page shows its NEWS2."""
    counted = screening.in_force(observations)
    return counted[-1] if counted else None


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
    )


def acknowledgeable(user, alerts) -> set[int]:
    """A2: the alerts of the list that this user may acknowledge."""
    return {a.pk for a in alerts if may_acknowledge(user, a)}
