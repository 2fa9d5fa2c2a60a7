"""Reads for the ward's printed documents: each document's data in a fixed number of queries, whatever the length of
the record. A document that cannot exist yet raises `DocumentUnavailable` with the reason the page gives."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from screening import selectors as screening
from screening.models import ScreeningTrial, TestDose
from titration import selectors as titration
from titration.models import DoseChange, Pump, Refill
from wardflow import protocol
from wardflow.patients.models import Patient
from wardflow.patients.selectors import visible_patients
from wardflow.policy import current_policy
from wardflow.protocol import TrialState
from web import charts
from web.selectors import PatientPage, label_statuses


class DocumentUnavailable(Exception):
    """The document cannot be printed for this record (yet): `reason` says why, in the ward's words."""

    def __init__(self, title: str, reason: str, patient: Patient):
        super().__init__(reason)
        self.title, self.reason, self.patient = title, reason, patient


@dataclass(frozen=True)
class ProgramSegment:
    """T7: one time-of-day segment of a program as the pump delivers it."""

    start: str
    end: str
    percent: Decimal
    mcg_per_hour: Decimal


def program_segments(change: DoseChange) -> list[ProgramSegment]:
    """The segments of a program with their hourly rates; a flat program is one segment from 00:00 to 24:00."""
    segments = titration.parse_segments(change.segments)
    rates = protocol.segment_rates_mcg_per_hour(change.new_daily_dose_mcg, segments)
    ends = [s.start_minute for s in segments[1:]] + [protocol.MINUTES_PER_DAY]
    return [
        ProgramSegment(_clock(s.start_minute), _clock(end), s.percent, rate.quantize(Decimal("0.01")))
        for s, end, rate in zip(segments, ends, rates, strict=True)
    ]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class ImplantingCentre:
    name: str
    phone: str


def implanting_centre() -> ImplantingCentre:
    return ImplantingCentre(settings.IMPLANTING_CENTRE_NAME, settings.IMPLANTING_CENTRE_PHONE.strip())


@dataclass(frozen=True)
class EmergencyCard:
    patient: Patient
    pump: Pump
    program: DoseChange | None  # the program in force (T12); None before the initial dose is programmed
    segments: list[ProgramSegment]
    last_refill: Refill | None
    centre: ImplantingCentre


def emergency_card(user, patient_pk: int) -> EmergencyCard:
    """The card a patient with a pump carries: the pump in place, the program in force, the last refill that counts
    (D4), when the alarm sounds and the refill falls due (R2), and whom to call."""
    patient = visible_patients(user).get(pk=patient_pk)
    pump = titration.pump_in_place(patient)
    if pump is None:
        raise DocumentUnavailable(
            "No emergency card",
            "This patient has no pump in place (T13): the emergency card describes an implanted pump and its program.",
            patient,
        )
    last_refill = titration.last_refill(pump)
    program = pump.active_change
    return EmergencyCard(patient=patient, pump=pump, program=program,
                         segments=program_segments(program) if program else [], last_refill=last_refill,
                         centre=implanting_centre())  # fmt: skip


@dataclass(frozen=True)
class VisitProgram:
    change: DoseChange
    segments: list[ProgramSegment]  # empty until it is in force (T12: its values are printed once read back)


@dataclass(frozen=True)
class RefillRecord:
    patient: Patient
    pump: Pump
    refill: Refill
    found_minus_expected_ml: Decimal
    beyond_limit: bool  # R5: the residual found is further from the estimate than the policy allows
    limit_ml: Decimal
    # The programs set at this visit (T5 adjustment, T15 new strength), with their signatures (T9, T12).
    programs: list[VisitProgram]
    # The next due date as it stands: the pump's, for the latest refill; the next refill's date for an earlier one.
    latest: bool
    next_refill: Refill | None


def refill_record(user, refill_pk: int) -> RefillRecord:
    """The record of one refill visit: volumes, the residual found against the one expected (R5), the program set at
    the visit with who signed, programmed and read it back, and when the next refill falls due (R2)."""
    related = ("pump", "pump__patient", "pump__patient__ward", "pump__active_change", "refilled_by")
    refill = titration.visible_refills(user).select_related(*related, "entered_in_error_by").get(pk=refill_pk)
    pump, patient = refill.pump, refill.pump.patient
    programs = list(
        refill.adjustments.select_related("proposed_by", "approved_by", "programmed_by", "read_back_by").order_by(
            "proposed_at", "id"
        )
    )
    label_statuses(programs)
    later = (
        pump.refills.filter(entered_in_error_at__isnull=True, refilled_at__gt=refill.refilled_at)
        .order_by("refilled_at", "id")
        .first()
    )
    policy = current_policy()
    found_minus_expected = refill.volume_removed_ml - refill.expected_residual_ml
    gap = protocol.residual_discrepancy(refill.expected_residual_ml, refill.volume_removed_ml, policy)
    return RefillRecord(patient=patient, pump=pump, refill=refill,
                        found_minus_expected_ml=found_minus_expected.quantize(Decimal("0.01")),
                        beyond_limit=gap is not None, limit_ml=policy.residual_discrepancy_ml,
                        programs=[VisitProgram(c, program_segments(c) if c.in_force_from else []) for c in programs],
                        latest=later is None and not refill.entered_in_error and pump.in_place,
                        next_refill=later)  # fmt: skip


DECISIONS = {
    TrialState.CANDIDATE: "Candidate for an implanted pump (S9)",
    TrialState.NOT_CANDIDATE: "Not a candidate for an implanted pump (S9)",
    TrialState.CANCELLED: "Cancelled without a candidacy decision (S11)",
    TrialState.SUSPENDED: "Suspended pending a neurologist's review (S10): no decision yet",
    TrialState.AWAITING_DOSE: "Screening under way: no decision yet",
    TrialState.OBSERVING: "Screening under way: no decision yet",
}


@dataclass(frozen=True)
class ScreeningSummary:
    patient: Patient
    trial: ScreeningTrial
    doses: list[TestDose]  # every dose, those entered in error struck through (D4)
    decision: str
    implanted: Pump | None  # T1: the pump this trial led to
    observations: list  # S5: every observation of the trial, those entered in error struck through (D4)
    curves: list[dict]  # S5-S7: Ashworth and Penn after each dose, as web/charts.py draws them


def screening_summary(user, trial_pk: int) -> ScreeningSummary:
    """A screening trial on paper: its doses, the observation curves after each (S5), the neurologist's assessments
    beside the suggestion (S6-S9) and the decision (S9, S11). A trial without a test dose has nothing to summarise."""
    trial = screening.visible_trials(user).select_related("opened_by").get(pk=trial_pk)
    doses = list(trial.doses.all())
    if not screening.in_force(doses):
        raise DocumentUnavailable(
            "No screening summary",
            "No test dose has been given on this screening trial (S1): there is nothing to summarise yet.",
            trial.patient,
        )
    observations = list(trial.observations.all())
    page = PatientPage(patient=trial.patient, trial=trial, doses=doses, observations=observations, pump=None,
                       dose_changes=[], alerts=[], refills=[])  # fmt: skip
    return ScreeningSummary(patient=trial.patient, trial=trial, doses=doses, decision=DECISIONS[trial.state],
                            implanted=Pump.objects.filter(screening_trial=trial).first(),
                            observations=observations, curves=charts.response_curves(page))  # fmt: skip
