"""The clinical protocol as pure rules: numbers in, decisions out.

Every clinical number and band of protocol.md lives here, next to the rule id that states it. No Django, no I/O;
doses are `Decimal`. Values the monograph leaves open are `policy` defaults, collected in `Policy` so a hospital
can override them in one place (settings.WARDFLOW_POLICY) without touching the rules.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

PROTOCOL_VERSION = "2026.2"


class AgeBand(StrEnum):
    PEDIATRIC = "pediatric"
    ADULT = "adult"


class SpasticityOrigin(StrEnum):
    SPINAL = "spinal"
    CEREBRAL = "cerebral"


@dataclass(frozen=True)
class Policy:
    """The protocol's `policy` defaults (protocol.md marks each one)."""

    adult_age_years: int = 18  # age bands: pediatric under this age at the time of the decision
    caution_age_years: int = 65  # P5: age at which the older-patient caution is shown
    # A1/A2: an alert still unacknowledged this long after it was raised is escalated to the ward's neurologists.
    escalate_warning_after_minutes: int = 30
    escalate_urgent_after_minutes: int = 10
    observation_hours: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)  # S5: after each test dose
    observation_overdue_minutes: int = 15  # A1: past its due time, an uncharted observation is overdue
    observation_slot_minutes: int = 30  # A1: an observation this close to its due time (either side) counts for it
    positive_ashworth_drop: Decimal = Decimal("1.0")  # S7
    positive_penn_drop: Decimal = Decimal("1")  # S7
    default_alarm_volume_ml: Decimal = Decimal("2")  # R1: low-reservoir alarm (some services use 4 mL)
    refill_buffer_days: int = 3  # R2: refill falls due this many days before the alarm
    refill_reminder_days: tuple[int, ...] = (14, 7, 3, 1)  # R3: reminders before the due date
    refill_warning_days: int = 3  # R3: reminders this close to the due date are warnings, earlier ones info
    refill_overdue_repeat_hours: int = 24  # R3: an overdue refill is raised again this often until charted
    high_risk_first_reminder_days: int = 21  # R4: earlier first reminder for high withdrawal risk (P4)
    residual_discrepancy_ml: Decimal = Decimal("2")  # R5: expected vs found residual beyond this: advisory
    titration_spacing_hours: int = 24  # T3
    sudden_increase_count: int = 3  # T10: approved increases within the window, in maintenance
    sudden_increase_window_days: int = 7  # T10
    lack_of_response_increases: int = 3  # T10: active increases in a row with no fall in mean Ashworth after them
    taper_step_spacing_hours: int = 24  # T11: at most one taper step per this many hours
    taper_final_step_max_mcg: Decimal = Decimal("50")  # T11: the last step to 0 mcg/day starts at or below this
    refill_adjustment_window_hours: int = 24  # T5: a refill adjustment follows a refill charted this recently
    withdrawal_after_explant_days: int = 14  # W1: withdrawal applies while a pump exists or existed this recently
    elective_replacement_alert_days: int = 90  # T13: alert this long before a pump's elective replacement date
    clinical_time_before_registration_days: int = 30  # dates and input: earliest clinical time before registration
    earliest_birth_year: int = 1900  # dates and input: plausible dates of birth
    independent_override_signature: bool = True  # T4: an overridden change is signed by another neurologist
    independent_readback: bool = True  # T12: a second clinician reads the programmed pump back before it is active
    signature_failure_limit: int = 5  # D5: failed signatures within the window that lock the signer's signing
    signature_failure_window_minutes: int = 15  # D5
    signature_lock_minutes: int = 15  # D5: how long signing stays locked
    refill_observation_hours: int = 1  # R6: an observation falls due this long after a refill (pocket-fill watch)
    concentration_transition_warning_percent: Decimal = Decimal("20")  # T15: transition dose this far off: warning
    # V1 (NEWS2 scoring table, SpO2 scale 1): per parameter, (band edges, band scores). A value up to and including
    # edges[i], and above the edge before it, scores scores[i]; above the last edge, scores[-1]. So a fractional
    # reading between the table's integer bands (temperature 35.05) counts with the band above the lower edge.
    news2_respiratory_rate: tuple = ((8, 11, 20, 24), (3, 1, 0, 2, 3))
    news2_spo2: tuple = ((91, 93, 95), (3, 2, 1, 0))
    news2_systolic_bp: tuple = ((90, 100, 110, 219), (3, 2, 1, 0, 3))
    news2_pulse: tuple = ((40, 50, 90, 110, 130), (3, 1, 0, 1, 2, 3))
    news2_temperature: tuple = ((Decimal("35.0"), Decimal("36.0"), Decimal("38.0"), Decimal("39.0")), (3, 1, 0, 1, 2))
    news2_oxygen_score: int = 2  # V1: supplemental oxygen (air scores 0)
    news2_not_alert_score: int = 3  # V1: consciousness other than alert (new confusion, voice, pain, unresponsive)
    news2_single_parameter_red: int = 3  # V1: this score in any one parameter is low-medium risk at least
    news2_medium_from: int = 5  # V1: aggregate 5-6 medium risk (urgent response)
    news2_high_from: int = 7  # V1: aggregate 7 or more high risk (emergency response)
    predose_baseline_minutes: int = 60  # V2: a test dose needs a baseline charted this recently before it
    predose_refuse_news2_from: int = 5  # V2: a baseline NEWS2 of this or more refuses the dose
    predose_min_respiratory_rate: Decimal = Decimal("10")  # V2: a baseline respiratory rate under this refuses it

    def with_overrides(self, overrides: dict) -> Policy:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"Unknown protocol policy setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **overrides)


DEFAULT_POLICY = Policy()


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    URGENT = "urgent"


def escalation_delay(severity: Severity, policy: Policy = DEFAULT_POLICY) -> timedelta | None:
    """A1: how long an alert may stay unacknowledged before escalation; info alerts never escalate."""
    minutes = {
        Severity.WARNING: policy.escalate_warning_after_minutes,
        Severity.URGENT: policy.escalate_urgent_after_minutes,
    }.get(severity)
    return None if minutes is None else timedelta(minutes=minutes)


def may_acknowledge(severity: Severity, role: str) -> bool:
    """A2: urgent alerts need a neurologist's acknowledgement; others, anyone they are addressed to."""
    return role == "neurologist" if severity == Severity.URGENT else role in {"nurse", "neurologist"}


def utc(moment: datetime) -> datetime:
    """Clinical intervals are elapsed time: compute them in UTC, never on a local clock that jumps at DST."""
    return moment.astimezone(UTC)


def age_years(date_of_birth: date, on: date) -> int:
    """Completed years of age on a given day."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


def age_band(date_of_birth: date, on: date, policy: Policy = DEFAULT_POLICY) -> AgeBand:
    """Pediatric under 18 years at the time of the decision (policy), adult from then on."""
    return AgeBand.ADULT if age_years(date_of_birth, on) >= policy.adult_age_years else AgeBand.PEDIATRIC


# P4: the recorded withdrawal-risk factors, by patient field, in the protocol's words.
WITHDRAWAL_RISK_FACTORS = {
    "sci_t6_or_above": "spinal cord injury at T6 or above",
    "communication_difficulties": "communication difficulties",
    "history_of_withdrawal": "history of baclofen withdrawal",
}


def high_withdrawal_risk(
    *, sci_t6_or_above: bool, communication_difficulties: bool, history_of_withdrawal: bool
) -> bool:
    """P4: any one recorded risk factor makes the patient high withdrawal risk (WITHDRAWAL_RISK_FACTORS)."""
    return sci_t6_or_above or communication_difficulties or history_of_withdrawal


@dataclass(frozen=True)
class CautionFactors:
    """What the record says about a patient that P3 and P5 turn into cautions."""

    age_years: int
    oral_antispasmodics: str = ""
    renal_impairment: bool = False
    psychiatric_or_brain_disorder: bool = False
    seizure_disorder: bool = False
    autonomic_dysreflexia_history: bool = False


def cautions(factors: CautionFactors, policy: Policy = DEFAULT_POLICY) -> list[str]:
    """P3 and P5: the cautions shown on every dose decision screen, each prefixed by its rule id."""
    found = []
    if factors.oral_antispasmodics.strip():
        found.append(
            f"P3: on oral antispasmodics ({factors.oral_antispasmodics.strip()}): plan a gradual taper before "
            "screening or after implant; do not stop them abruptly."
        )
    if factors.renal_impairment:
        found.append(
            "P5: renal impairment: baclofen is cleared by the kidneys; "
            "consider lower doses and watch for overdose signs."
        )
    if factors.age_years >= policy.caution_age_years:
        found.append(
            f"P5: aged {factors.age_years}: older patients are more prone to adverse effects; titrate with care."
        )
    if factors.psychiatric_or_brain_disorder:
        found.append("P5: psychiatric or brain disorder: watch for worsening of mental state.")
    if factors.seizure_disorder:
        found.append("P5: seizure disorder: seizure control may deteriorate; monitor clinically.")
    if factors.autonomic_dysreflexia_history:
        found.append(
            "P5: history of autonomic dysreflexia: "
            "painful stimuli or an interruption of therapy may trigger an episode."
        )
    return found


# --- Screening phase: test doses (S1-S10) -----------------------------------------------------------------------

TEST_DOSE_CONCENTRATION_MCG_PER_ML = Decimal("50")  # S1: test doses are drawn from the 50 mcg/mL ampule
TEST_DOSE_LADDER_MCG = (Decimal("50"), Decimal("75"), Decimal("100"))  # S1: doses 1, 2, 3
PEDIATRIC_FIRST_DOSE_MCG = Decimal("25")  # S2: "very small children", chosen by a neurologist with a reason
MAX_TEST_DOSES = len(TEST_DOSE_LADDER_MCG)  # S1
TEST_DOSE_SPACING = timedelta(hours=24)  # S3: no tolerance
MIN_INJECTION_SECONDS = 60  # S4: over at least one minute, with barbotage
MIN_SCREENING_AGE_YEARS = 4  # P2: safety below this age not established
ASSESSMENT_WINDOW_HOURS = (4, 8)  # S6: the 4-8 h observations are the assessment window
FUTURE_TOLERANCE = timedelta(minutes=5)  # clinical times more than this ahead of the clock are refused


class TrialState(StrEnum):
    AWAITING_DOSE = "awaiting_dose"
    OBSERVING = "observing"
    CANDIDATE = "candidate"
    NOT_CANDIDATE = "not_candidate"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class Response(StrEnum):
    POSITIVE = "positive"
    INADEQUATE = "inadequate"


class Route(StrEnum):
    LUMBAR_PUNCTURE = "lumbar_puncture"
    CATHETER = "catheter"


class Sedation(StrEnum):
    ALERT = "alert"
    DROWSY = "drowsy"
    ROUSABLE = "rousable"
    UNROUSABLE = "unrousable"


# W1: withdrawal signs; O1: overdose signs; S10: serious adverse events that stop a trial.
WITHDRAWAL_SIGNS_EARLY = frozenset({"return_of_spasticity", "pruritus", "hypotension", "paresthesias"})
WITHDRAWAL_SIGNS_ADVANCED = frozenset({"high_fever", "altered_mental_status", "rebound_spasticity", "muscle_rigidity"})
WITHDRAWAL_SIGNS = WITHDRAWAL_SIGNS_EARLY | WITHDRAWAL_SIGNS_ADVANCED
OVERDOSE_SIGNS = frozenset(
    {
        "drowsiness",
        "lightheadedness",
        "dizziness",
        "somnolence",
        "respiratory_depression",
        "seizure",
        "rostral_hypotonia",
        "loss_of_consciousness",
        "coma",
    }
)
SERIOUS_ADVERSE_SIGNS = frozenset({"respiratory_depression", "seizure", "loss_of_consciousness", "coma"})
UNROUSABLE_SEDATION = "sedation unrousable"  # S10: how a trial's suspension names an unrousable sedation level
OTHER_SIGNS = frozenset({"nausea", "headache", "hypotonia"})
ALL_SIGNS = WITHDRAWAL_SIGNS | OVERDOSE_SIGNS | OTHER_SIGNS

# S5: Modified Ashworth steps 0, 1, 1+, 2, 3, 4 are stored as these numbers; the charted value is their mean.
ASHWORTH_STEPS = (Decimal("0"), Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("3"), Decimal("4"))
ASHWORTH_NOTATION = {step: "1+" if step == Decimal("1.5") else str(step) for step in ASHWORTH_STEPS}


def ashworth_notation(value: Decimal) -> str:
    """S5: a Modified Ashworth value as a clinician writes it: a step as 0, 1, 1+, 2, 3 or 4; a mean across muscle
    groups that falls between steps with one decimal (it is not a step, so never written with a +)."""
    value = Decimal(value)
    return ASHWORTH_NOTATION.get(value) or str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# S5 (policy): physiologic bounds beyond which a charted value is taken as an entry error.
VITAL_SIGN_BOUNDS = {
    "ashworth_mean": (Decimal("0"), Decimal("4")),
    "penn_spasm_frequency": (Decimal("0"), Decimal("4")),
    "heart_rate": (Decimal("20"), Decimal("250")),
    "systolic_bp": (Decimal("40"), Decimal("300")),
    "diastolic_bp": (Decimal("20"), Decimal("200")),
    "respiratory_rate": (Decimal("0"), Decimal("80")),
    "spo2": (Decimal("0"), Decimal("100")),
    "temperature_c": (Decimal("25"), Decimal("45")),
}

WITHDRAWAL_GUIDANCE = (
    "W1: signs of intrathecal baclofen withdrawal. Restore intrathecal delivery at or near the previous dose "
    "without delay; oral baclofen alone does not stop intrathecal withdrawal."
)
# W1: without an intrathecal infusion running or recently stopped, the same signs are not withdrawal; during
# screening they follow the test bolus, and there is no delivery to restore.
BOLUS_ADVERSE_EFFECT_GUIDANCE = (
    "W1: no intrathecal infusion is running or recently stopped, so these signs are not intrathecal withdrawal; "
    "during screening they are adverse effects of the test bolus. Review the patient and keep to the observation "
    "schedule."
)
# O1: only a patient with a pump in place has a reservoir to empty.
OVERDOSE_GUIDANCE = "O1: signs of baclofen overdose. Assess the patient now and consider emptying the pump reservoir."
OVERDOSE_GUIDANCE_WITHOUT_PUMP = (
    "O1: signs of baclofen overdose. Assess the patient now: airway, breathing and circulation; call the emergency "
    "team if any is compromised (during screening see S10)."
)
# S10: the patient has no pump: the guidance is resuscitation, never the reservoir.
SERIOUS_ADVERSE_EVENT_GUIDANCE = (
    "S10: serious adverse event. Secure airway, breathing and circulation and call the emergency team now; "
    "a neurologist reviews the patient before any further test dose."
)


def first_test_dose_choices(band: AgeBand) -> tuple[Decimal, ...]:
    """S1/S2: the doses a neurologist may choose as dose 1 for this age band."""
    standard = TEST_DOSE_LADDER_MCG[0]
    return (standard, PEDIATRIC_FIRST_DOSE_MCG) if band == AgeBand.PEDIATRIC else (standard,)


def ladder_dose_mcg(number: int, first_dose_mcg: Decimal = TEST_DOSE_LADDER_MCG[0]) -> Decimal:
    """S1/S2: the dose of rung `number` (1-based); a 25 mcg start continues 75, 100."""
    if not 1 <= number <= MAX_TEST_DOSES:
        raise ValueError(f"there is no test dose {number}: at most {MAX_TEST_DOSES} (S1)")
    return first_dose_mcg if number == 1 else TEST_DOSE_LADDER_MCG[number - 1]


def ladder_volume_ml(dose_mcg: Decimal) -> Decimal:
    """S1: volume of the 50 mcg/mL solution that holds `dose_mcg`."""
    return dose_mcg / TEST_DOSE_CONCENTRATION_MCG_PER_ML


def earliest_next_test_dose(previous_given_at: datetime) -> datetime:
    """S3: the next test dose is due no earlier than 24 h after the previous one (no tolerance)."""
    return utc(previous_given_at) + TEST_DOSE_SPACING


def earliest_test_dose(patient_doses_given_at: list[datetime]) -> datetime | None:
    """S3/S11: a patient's test dose is given no earlier than 24 h after their latest one, whatever trial that was in
    (cancelled ones included; no tolerance). None when the patient has had none."""
    latest = max((utc(t) for t in patient_doses_given_at), default=None)
    return None if latest is None else earliest_next_test_dose(latest)


def observation_schedule(given_at: datetime, policy: Policy = DEFAULT_POLICY) -> list[datetime]:
    """S5: when observations fall due after a test dose (policy: hourly, 1 to 8 h)."""
    return [utc(given_at) + timedelta(hours=h) for h in policy.observation_hours]


def observation_overdue_at(due_at: datetime, policy: Policy = DEFAULT_POLICY) -> datetime:
    """A1: an observation not charted this long after it fell due is overdue."""
    return utc(due_at) + timedelta(minutes=policy.observation_overdue_minutes)


def observation_fills_slot(observed_at: datetime, due_at: datetime, policy: Policy = DEFAULT_POLICY) -> bool:
    """A1: an observation charted within half an hour either side of its due time (policy) counts for it."""
    window = timedelta(minutes=policy.observation_slot_minutes)
    return utc(due_at) - window <= observed_at < utc(due_at) + window


def late_entry_delay(observed_at: datetime, entered_at: datetime, policy: Policy = DEFAULT_POLICY) -> timedelta | None:
    """A1: an observation charted more than the overdue grace (policy) after it was made is a late entry; its delay
    (None when charted in time)."""
    delay = utc(entered_at) - utc(observed_at)
    return delay if delay > timedelta(minutes=policy.observation_overdue_minutes) else None


def may_be_assessed(given_at: datetime, observed_times: list[datetime]) -> bool:
    """S6: a response is assessed only once an observation at 4 h or later after the dose is charted."""
    return any(t >= utc(given_at) + timedelta(hours=ASSESSMENT_WINDOW_HOURS[0]) for t in observed_times)


def in_assessment_window(given_at: datetime, observed_at: datetime) -> bool:
    low, high = ASSESSMENT_WINDOW_HOURS
    return utc(given_at) + timedelta(hours=low) <= observed_at <= utc(given_at) + timedelta(hours=high)


@dataclass(frozen=True)
class Scores:
    """The two spasticity measures S7 compares."""

    ashworth_mean: Decimal
    penn_spasm_frequency: Decimal


@dataclass(frozen=True)
class Suggestion:
    response: Response | None
    reason: str


def suggest_response(baseline: Scores | None, window: list[Scores], policy: Policy = DEFAULT_POLICY) -> Suggestion:
    """S7: suggest "positive" when, at some observation of the 4-8 h window, mean Ashworth fell by >= 1.0 from
    baseline or Penn spasm frequency by >= 1 (policy). The neurologist decides."""
    if baseline is None:
        return Suggestion(None, "S7: no baseline observation was charted before this dose.")
    if not window:
        return Suggestion(None, "S7: no observation in the 4-8 h window yet.")
    best_ashworth = max(baseline.ashworth_mean - s.ashworth_mean for s in window)
    best_penn = max(baseline.penn_spasm_frequency - s.penn_spasm_frequency for s in window)
    if best_ashworth >= policy.positive_ashworth_drop or best_penn >= policy.positive_penn_drop:
        return Suggestion(
            Response.POSITIVE,
            f"S7: largest fall from baseline in the 4-8 h window: Ashworth {best_ashworth}, Penn {best_penn} "
            f"(positive from Ashworth {policy.positive_ashworth_drop} or Penn {policy.positive_penn_drop}).",
        )
    return Suggestion(
        Response.INADEQUATE,
        f"S7: largest fall from baseline in the 4-8 h window: Ashworth {best_ashworth}, Penn {best_penn} "
        f"(below Ashworth {policy.positive_ashworth_drop} and Penn {policy.positive_penn_drop}).",
    )


def state_after_assessment(dose_number: int, response: Response) -> TrialState:
    """S9: positive -> candidate; inadequate -> next rung, or not a candidate after the last rung."""
    if response == Response.POSITIVE:
        return TrialState.CANDIDATE
    return TrialState.AWAITING_DOSE if dose_number < MAX_TEST_DOSES else TrialState.NOT_CANDIDATE


def response_duration_problem(duration_hours: Decimal | None) -> str | None:
    """S8: a positive response records how many hours it lasted, more than 0: T1 doubles the test dose for a
    response of up to 8 h, so a 0 h entry would double it for an effect that never showed."""
    if duration_hours is None:
        return "S8: record how many hours the positive response lasted."
    if duration_hours <= 0:
        return f"S8: a positive response lasts more than 0 h ({duration_hours} h entered); record how long it lasted."
    return None


def serious_adverse_events(signs: list[str], sedation: str) -> tuple[str, ...]:
    """S10: what was charted that is a serious adverse event (respiratory depression, seizure, loss of
    consciousness, coma, or sedation unrousable). Any of them suspends an open trial pending neurologist review."""
    found = tuple(sorted(SERIOUS_ADVERSE_SIGNS & set(signs)))
    return (*found, UNROUSABLE_SEDATION) if sedation == Sedation.UNROUSABLE else found


def intrathecal_infusion_started(
    pumps_explanted_at: list[datetime | None], at: datetime, policy: Policy = DEFAULT_POLICY
) -> bool:
    """W1: at `at`, the patient's intrathecal infusion has started: a pump is in place (not explanted), or one was
    explanted within the last `withdrawal_after_explant_days` (policy)."""
    since = utc(at) - timedelta(days=policy.withdrawal_after_explant_days)
    return any(explanted_at is None or explanted_at >= since for explanted_at in pumps_explanted_at)


class SignsMeaning(StrEnum):
    """What charted signs mean (S10, O1, W1); each meaning is raised as its own alert kind."""

    SERIOUS_ADVERSE_EVENT = "serious_adverse_event"  # S10
    OVERDOSE = "overdose"  # O1
    WITHDRAWAL = "withdrawal"  # W1, once the intrathecal infusion has started
    BOLUS_ADVERSE_EFFECT = "bolus_adverse_effect"  # W1, before it: screening


@dataclass(frozen=True)
class SignsAlert:
    """The alert that charted signs call for: its rule, severity, the signs that led to it, and the guidance."""

    meaning: SignsMeaning
    rule: str
    severity: Severity
    charted: tuple[str, ...]
    guidance: str

    @property
    def message(self) -> str:
        return f"{', '.join(self.charted)} charted. {self.guidance}"


def overdose_signs_alert(signs: list[str], sedation: str, *, pump_in_place: bool) -> SignsAlert | None:
    """O1 and S10. With a pump in place, overdose signs (the serious ones included) call for O1: assess, consider
    emptying the pump reservoir. Without one there is no reservoir: a serious adverse event is S10 (airway,
    breathing, circulation, emergency team) and other overdose signs are O1 with the same kind of guidance."""
    serious = serious_adverse_events(signs, sedation)
    charted = tuple(sorted(set(serious) | (OVERDOSE_SIGNS & set(signs))))
    if not charted:
        return None
    if pump_in_place:
        return SignsAlert(SignsMeaning.OVERDOSE, "O1", Severity.URGENT, charted, OVERDOSE_GUIDANCE)
    if serious:
        return SignsAlert(
            SignsMeaning.SERIOUS_ADVERSE_EVENT, "S10", Severity.URGENT, charted, SERIOUS_ADVERSE_EVENT_GUIDANCE
        )
    return SignsAlert(SignsMeaning.OVERDOSE, "O1", Severity.URGENT, charted, OVERDOSE_GUIDANCE_WITHOUT_PUMP)


def withdrawal_signs_alert(signs: list[str], *, infusion_started: bool) -> SignsAlert | None:
    """W1: withdrawal-list signs are intrathecal baclofen withdrawal once the infusion has started: urgent, restore
    delivery. Before it (screening) they are adverse effects of the test bolus: a warning to the neurologist, with
    nothing to restore."""
    charted = tuple(sorted(WITHDRAWAL_SIGNS & set(signs)))
    if not charted:
        return None
    if infusion_started:
        return SignsAlert(SignsMeaning.WITHDRAWAL, "W1", Severity.URGENT, charted, WITHDRAWAL_GUIDANCE)
    return SignsAlert(SignsMeaning.BOLUS_ADVERSE_EFFECT, "W1", Severity.WARNING, charted, BOLUS_ADVERSE_EFFECT_GUIDANCE)


# --- V1/V2: early warning score (NEWS2) and the pre-dose check --------------------------------------------------


class News2Risk(StrEnum):
    """V1: the NEWS2 clinical risk, lowest first."""

    LOW = "low"
    LOW_MEDIUM = "low_medium"  # 3 in any one parameter: urgent ward review
    MEDIUM = "medium"  # urgent response
    HIGH = "high"  # emergency response


NEWS2_RISK_ORDER = tuple(News2Risk)
# V1: the parameters NEWS2 scores, named as the observation's fields so that a page flags the field of each.
NEWS2_LABELS = {
    "respiratory_rate": "respiratory rate",
    "spo2": "SpO2",
    "on_oxygen": "supplemental oxygen",
    "systolic_bp": "systolic BP",
    "heart_rate": "pulse",
    "sedation": "consciousness",
    "temperature_c": "temperature",
}
NEWS2_GUIDANCE = {
    News2Risk.LOW_MEDIUM: "V1: one parameter scores 3: urgent ward-based review by a clinician, who decides whether "
    "the monitoring or the care must change.",
    News2Risk.MEDIUM: "V1: urgent response: a clinician competent in acute illness reviews the patient now; "
    "observations at least hourly.",
    News2Risk.HIGH: "V1: emergency response: assess airway, breathing and circulation now and call the emergency "
    "team; continuous monitoring.",
}


@dataclass(frozen=True)
class News2:
    """V1: an observation's NEWS2: the aggregate, its risk and the score of each parameter (NEWS2_LABELS)."""

    score: int
    risk: News2Risk
    parameters: dict[str, int]

    @property
    def flagged(self) -> tuple[str, ...]:
        """V1: the parameters whose value is abnormal (scores above 0)."""
        return tuple(name for name, points in self.parameters.items() if points > 0)

    def as_dict(self) -> dict:
        return {"score": self.score, "risk": str(self.risk), "parameters": dict(self.parameters)}


def band_score(value: Decimal, bands: tuple) -> int:
    """V1: the score of `value` in one parameter's (edges, scores) bands of the Policy."""
    edges, scores = bands
    return scores[bisect_left(edges, value)]


def news2_bands(policy: Policy = DEFAULT_POLICY) -> dict[str, tuple]:
    """V1: the banded parameters' (edges, scores), by observation field."""
    return {
        "respiratory_rate": policy.news2_respiratory_rate,
        "spo2": policy.news2_spo2,
        "systolic_bp": policy.news2_systolic_bp,
        "heart_rate": policy.news2_pulse,
        "temperature_c": policy.news2_temperature,
    }


def news2_parameters(*, respiratory_rate: Decimal, spo2: Decimal, on_oxygen: bool, systolic_bp: Decimal,
                     heart_rate: Decimal, sedation: str, temperature_c: Decimal,
                     policy: Policy = DEFAULT_POLICY) -> dict[str, int]:  # fmt: skip
    """V1: the score of each NEWS2 parameter (SpO2 scale 1; consciousness from sedation: `alert` scores 0, any
    other level counts as new confusion, voice, pain or unresponsive)."""
    bands = news2_bands(policy)
    return {
        "respiratory_rate": band_score(respiratory_rate, bands["respiratory_rate"]),
        "spo2": band_score(spo2, bands["spo2"]),
        "on_oxygen": policy.news2_oxygen_score if on_oxygen else 0,
        "systolic_bp": band_score(systolic_bp, bands["systolic_bp"]),
        "heart_rate": band_score(heart_rate, bands["heart_rate"]),
        "sedation": 0 if sedation == Sedation.ALERT else policy.news2_not_alert_score,
        "temperature_c": band_score(temperature_c, bands["temperature_c"]),
    }


def news2_risk(parameters: dict[str, int], policy: Policy = DEFAULT_POLICY) -> News2Risk:
    """V1: aggregate 7 or more high; 5-6 medium; otherwise 3 in any one parameter low-medium; else low."""
    score = sum(parameters.values())
    if score >= policy.news2_high_from:
        return News2Risk.HIGH
    if score >= policy.news2_medium_from:
        return News2Risk.MEDIUM
    if any(points >= policy.news2_single_parameter_red for points in parameters.values()):
        return News2Risk.LOW_MEDIUM
    return News2Risk.LOW


def news2(*, policy: Policy = DEFAULT_POLICY, **values) -> News2:
    """V1: the NEWS2 of one set of observations (the keyword arguments of `news2_parameters`)."""
    parameters = news2_parameters(policy=policy, **values)
    return News2(sum(parameters.values()), news2_risk(parameters, policy), parameters)


def news2_needs_urgent_review(risk: str) -> bool:
    """V1: low-medium risk and above call for an urgent review (the early-warning alert is urgent)."""
    return risk != News2Risk.LOW


def news2_alert_needed(risk: str, open_alert_risks: list[str]) -> bool:
    """V1: low-medium risk and above raise an urgent alert, unless one raised for the same or a higher risk is still
    open for the patient; a higher risk raises a new one."""
    rank = NEWS2_RISK_ORDER.index
    if not news2_needs_urgent_review(risk):
        return False
    return all(rank(News2Risk(other)) < rank(News2Risk(risk)) for other in open_alert_risks)


def news2_alert_message(result: News2) -> str:
    """V1: what the alert says: the score, its risk, the abnormal parameters, and the response it calls for."""
    abnormal = ", ".join(f"{NEWS2_LABELS[name]} {result.parameters[name]}" for name in result.flagged)
    return f"NEWS2 {result.score} ({result.risk.replace('_', '-')} risk): {abnormal}. {NEWS2_GUIDANCE[result.risk]}"


def predose_window(dose_at: datetime, policy: Policy = DEFAULT_POLICY) -> tuple[datetime, datetime]:
    """V2: a baseline counts for a dose when charted from `predose_baseline_minutes` before it up to (not at or
    after) the dose time."""
    return utc(dose_at) - timedelta(minutes=policy.predose_baseline_minutes), utc(dose_at)


@dataclass(frozen=True)
class PredoseCheck:
    """V2: a test dose checked against its baseline observation (None when none was charted in the window)."""

    baseline_at: datetime | None
    news2: News2 | None
    respiratory_rate: Decimal | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def predose_check(baseline_at: datetime | None, baseline_news2: News2 | None, respiratory_rate: Decimal | None,
                  policy: Policy = DEFAULT_POLICY) -> PredoseCheck:  # fmt: skip
    """V2: refused without a baseline in the window, or with a baseline NEWS2 of 5 or more, or a respiratory rate
    under 10 (policy); a neurologist may override with a written reason."""
    if baseline_at is None or baseline_news2 is None or respiratory_rate is None:
        problem = (
            f"V2: no baseline observation was charted in the {policy.predose_baseline_minutes} min before the dose; "
            "chart one first."
        )
        return PredoseCheck(None, None, None, (problem,))
    problems = []
    if baseline_news2.score >= policy.predose_refuse_news2_from:
        problems.append(
            f"V2: the baseline NEWS2 is {baseline_news2.score} ({baseline_news2.risk.replace('_', '-')} risk); a test "
            f"dose needs a baseline NEWS2 under {policy.predose_refuse_news2_from}."
        )
    if respiratory_rate < policy.predose_min_respiratory_rate:
        problems.append(
            f"V2: the baseline respiratory rate is {respiratory_rate}/min; a test dose needs "
            f"{policy.predose_min_respiratory_rate}/min or more."
        )
    return PredoseCheck(baseline_at, baseline_news2, respiratory_rate, tuple(problems))


# --- Implant, titration and pump programs (T1-T12) --------------------------------------------------------------

COMMERCIAL_CONCENTRATIONS_MCG_PER_ML = (Decimal("50"), Decimal("500"), Decimal("2000"))  # T2
LIMITED_EXPERIENCE_ABOVE_MCG = Decimal("1000")  # T8
HOURS_PER_DAY = Decimal("24")
MINUTES_PER_DAY = 24 * 60


class DoseChangeKind(StrEnum):
    INITIAL = "initial"
    TITRATION = "titration"
    REFILL_ADJUSTMENT = "refill_adjustment"
    ADVERSE_EFFECT_REDUCTION = "adverse_effect_reduction"
    DISCONTINUATION = "discontinuation"
    RESTART = "restart"  # T14: after a stop, the restart dose is proposed directly
    CONCENTRATION_CHANGE = "concentration_change"  # T15: a new strength at a refill, at the same daily dose


class Phase(StrEnum):
    TITRATION = "titration"
    MAINTENANCE = "maintenance"


# T3/T5: the increases measured as a percent of the active daily dose (a T14 restart from 0 is not one of them).
PERCENT_INCREASE_KINDS = frozenset({DoseChangeKind.TITRATION, DoseChangeKind.REFILL_ADJUSTMENT})
REDUCTION_KINDS = frozenset({DoseChangeKind.ADVERSE_EFFECT_REDUCTION, DoseChangeKind.DISCONTINUATION})  # T6, T11
CENT = Decimal("0.01")  # T4: the precision of the allowed range a refusal states


def initial_daily_dose(positive_test_dose_mcg: Decimal, response_hours: Decimal) -> Decimal:
    """T1: twice the positive test dose if its effect lasted <= 8 h, the same dose if it lasted longer."""
    return positive_test_dose_mcg * 2 if response_hours <= 8 else positive_test_dose_mcg


def needs_dilution_record(concentration_mcg_per_ml: Decimal) -> bool:
    """T2: only 50, 500 and 2000 mcg/mL are commercial; any other strength is a recorded dilution."""
    return concentration_mcg_per_ml not in COMMERCIAL_CONCENTRATIONS_MCG_PER_ML


def rate_ml_per_day(daily_dose_mcg: Decimal, concentration_mcg_per_ml: Decimal) -> Decimal:
    """T2: infusion rate = daily dose / concentration (exact; round only for display)."""
    return daily_dose_mcg / concentration_mcg_per_ml


@dataclass(frozen=True)
class Band:
    """Allowed percent change of the active daily dose; negative numbers are reductions."""

    min_percent: Decimal
    max_percent: Decimal
    rule: str


# T6: intolerable adverse effects lower the daily dose by 10-20 %.
ADVERSE_EFFECT_REDUCTION_BAND = Band(Decimal("-20"), Decimal("-10"), "T6")
# T11: a taper step lowers the active dose by at most the T6 band's largest reduction, and by as little as it likes.
TAPER_BAND = Band(ADVERSE_EFFECT_REDUCTION_BAND.min_percent, Decimal("0"), "T11")


def allowed_band(kind: DoseChangeKind, origin: SpasticityOrigin, band: AgeBand) -> Band | None:
    """T3 titration, T5 refill adjustment, T6 adverse-effect reduction, T11 taper step; None where no band applies
    (T14: a restart is proposed directly)."""
    if kind == DoseChangeKind.TITRATION:
        if band == AgeBand.ADULT and origin == SpasticityOrigin.SPINAL:
            return Band(Decimal("10"), Decimal("30"), "T3")
        return Band(Decimal("5"), Decimal("15"), "T3")  # adult cerebral, and pediatric of either origin
    if kind == DoseChangeKind.REFILL_ADJUSTMENT:
        if origin == SpasticityOrigin.SPINAL:
            return Band(Decimal("10"), Decimal("40"), "T5")
        return Band(Decimal("5"), Decimal("20"), "T5")
    if kind == DoseChangeKind.ADVERSE_EFFECT_REDUCTION:
        return ADVERSE_EFFECT_REDUCTION_BAND
    if kind == DoseChangeKind.DISCONTINUATION:
        return TAPER_BAND
    return None


def refusal_rule(band: Band) -> str:
    """T4 states how a step beyond the T3 band is refused; T5, T6 and T11 refuse under their own rule."""
    return "T4" if band.rule == "T3" else band.rule


def percent_change(active_mcg: Decimal, new_mcg: Decimal) -> Decimal:
    """T3: percent of the active daily dose."""
    return (new_mcg - active_mcg) / active_mcg * 100


def allowed_range_mcg(active_mcg: Decimal, band: Band) -> tuple[Decimal, Decimal]:
    """T4: the band in mcg/day as a refusal states it, the minimum rounded up and the maximum rounded down to
    0.01 mcg, so that each figure given is itself accepted. A band reaching 0 % (T11) ends a cent below the active
    dose, which a reduction must lower."""
    low = (active_mcg * (100 + band.min_percent) / 100).quantize(CENT, rounding=ROUND_CEILING)
    high = (active_mcg * (100 + band.max_percent) / 100).quantize(CENT, rounding=ROUND_FLOOR)
    if band.max_percent == 0:
        high = min(high, active_mcg.quantize(CENT, rounding=ROUND_CEILING) - CENT)
    return low, high


@dataclass(frozen=True)
class BandCheck:
    percent: Decimal
    beyond_band: bool  # T4: refused unless a neurologist overrides with a reason
    notices: tuple[str, ...]
    allowed_min_mcg: Decimal  # T4: rounded up to 0.01
    allowed_max_mcg: Decimal  # T4: rounded down to 0.01


def check_band(active_mcg: Decimal, new_mcg: Decimal, band: Band) -> BandCheck:
    """T4 (and T5, T6, T11): a step beyond the band's far end needs an override; a smaller one is allowed with a
    notice. For reductions the far end is the largest reduction. Compared exactly (new x 100 against active x
    (100 + limit)), never on a rounded percent."""
    percent = percent_change(active_mcg, new_mcg)
    increase = band.max_percent > 0
    far, near = (band.max_percent, band.min_percent) if increase else (band.min_percent, band.max_percent)
    new_scaled, far_scaled, near_scaled = new_mcg * 100, active_mcg * (100 + far), active_mcg * (100 + near)
    beyond = new_scaled > far_scaled if increase else new_scaled < far_scaled
    notices = []
    if (increase and new_scaled < near_scaled) or (not increase and new_scaled > near_scaled):
        notices.append(
            f"{band.rule}: a change of {percent.quantize(Decimal('0.1'))} % is smaller than the usual "
            f"{abs(near)} % step."
        )
    low, high = allowed_range_mcg(active_mcg, band)
    return BandCheck(percent=percent, beyond_band=beyond, notices=tuple(notices), allowed_min_mcg=low,
                     allowed_max_mcg=high)  # fmt: skip


def beyond_band_message(active_mcg: Decimal, check: BandCheck, band: Band) -> str:
    """T4: the refusal in words. The percent is rounded away from the band (to 0.01) so that it never reads as the
    limit itself, and the range is given in mcg/day to the 0.01 mcg that is accepted."""
    rounding = ROUND_CEILING if check.percent > 0 else ROUND_FLOOR
    return (
        f"{refusal_rule(band)}: a change of {check.percent.quantize(CENT, rounding=rounding)} % is beyond the "
        f"{band.rule} band of {band.min_percent} to {band.max_percent} % of the active {active_mcg} mcg/day; "
        f"allowed: {check.allowed_min_mcg} to {check.allowed_max_mcg} mcg/day. A neurologist may override with a "
        "written reason (override_reason)."
    )


@dataclass(frozen=True)
class RangeFinding:
    notices: tuple[str, ...]
    warnings: tuple[str, ...]  # need acknowledgement at approval


def maintenance_range(daily_mcg: Decimal, origin: SpasticityOrigin, age: int) -> RangeFinding:
    """T8: usual and seen maintenance ranges by origin and age; beyond 1000 mcg/day, limited experience."""
    if age < 12:
        usual, seen, label = None, (Decimal("24"), Decimal("1199")), "children under 12 (average 274)"
    elif origin == SpasticityOrigin.SPINAL:
        usual, seen, label = (Decimal("300"), Decimal("800")), (Decimal("12"), Decimal("2003")), "spinal origin"
    else:
        usual, seen, label = (Decimal("90"), Decimal("703")), (Decimal("22"), Decimal("1400")), "cerebral origin"
    notices, warnings = [], []
    if not seen[0] <= daily_mcg <= seen[1]:
        warnings.append(
            f"T8: {daily_mcg} mcg/day is outside the {seen[0]}-{seen[1]} mcg/day ever reported for {label}."
        )
    elif usual and not usual[0] <= daily_mcg <= usual[1]:
        notices.append(f"T8: {daily_mcg} mcg/day is outside the usual {usual[0]}-{usual[1]} mcg/day for {label}.")
    if daily_mcg > LIMITED_EXPERIENCE_ABOVE_MCG:
        warnings.append(f"T8: limited experience with maintenance doses above {LIMITED_EXPERIENCE_ABOVE_MCG} mcg/day.")
    return RangeFinding(tuple(notices), tuple(warnings))


def next_step_at(activated_at: datetime, policy: Policy = DEFAULT_POLICY) -> datetime:
    """T3: the earliest time the next increase may be programmed after a change became active."""
    return utc(activated_at) + timedelta(hours=policy.titration_spacing_hours)


def elective_replacement_alert_day(replacement_on: date, policy: Policy = DEFAULT_POLICY) -> date:
    """T13: the ward day the alert for a pump's elective replacement (end of battery life) is raised."""
    return replacement_on - timedelta(days=policy.elective_replacement_alert_days)


def spaced_by_t3(kind: DoseChangeKind) -> bool:
    """T3: titration increases (T5 adjustments included) wait for the 24 h spacing, to the second; reductions (T6,
    T11) never do, nor does a restart after a stop (T14; W1: restore delivery without delay)."""
    return kind in PERCENT_INCREASE_KINDS


def earliest_programming(previous_activated_at: datetime | None, proposed_at: datetime, is_increase: bool,
                         policy: Policy = DEFAULT_POLICY) -> datetime:  # fmt: skip
    """T3: an increase is programmed no earlier than 24 h after the previous change became active; T6: decreases
    are never held back by that spacing, nor is a T14 restart (`is_increase` is `spaced_by_t3` of the kind)."""
    if is_increase and previous_activated_at is not None:
        return next_step_at(previous_activated_at, policy)
    return proposed_at


def sudden_increase(beyond_band: bool, approved_increase_times: list[datetime], now: datetime,
                    policy: Policy = DEFAULT_POLICY) -> bool:  # fmt: skip
    """T10: a proposal beyond the band, or three approved increases within 7 days in maintenance, suggests a pump
    or catheter problem (kink, dislodgement)."""
    window = timedelta(days=policy.sudden_increase_window_days)
    recent = [t for t in approved_increase_times if utc(now) - window <= t <= now]
    return beyond_band or len(recent) >= policy.sudden_increase_count


@dataclass(frozen=True)
class Activation:
    """A dose change that became active (T10): when, and whether it was a T3/T5 increase."""

    at: datetime
    increase: bool


def lack_of_response(activations: list[Activation], ashworth: list[tuple[datetime, Decimal]],
                     policy: Policy = DEFAULT_POLICY) -> bool:  # fmt: skip
    """T10 (policy): the last `lack_of_response_increases` changes that became active were all increases, and the
    mean Ashworth charted since the first of them never fell below the last one charted before it (with none before,
    below the first one charted after it). The response must have been charted: at least one value after the last
    increase became active."""
    run = sorted(activations, key=lambda a: utc(a.at))[-policy.lack_of_response_increases :]
    if len(run) < policy.lack_of_response_increases or not all(a.increase for a in run):
        return False
    first, last = utc(run[0].at), utc(run[-1].at)
    charted = sorted((utc(t), score) for t, score in ashworth)
    before = [score for t, score in charted if t <= first]
    after = [(t, score) for t, score in charted if t > first]
    if not any(t > last for t, _ in after):
        return False
    reference = before[-1] if before else after[0][1]
    return all(score >= reference for _, score in after)


def refill_adjustment_open(refilled_at: datetime, now: datetime, policy: Policy = DEFAULT_POLICY) -> bool:
    """T5: a refill adjustment follows a refill charted within the previous `refill_adjustment_window_hours`."""
    return utc(now) - timedelta(hours=policy.refill_adjustment_window_hours) <= utc(refilled_at) <= utc(now)


@dataclass(frozen=True)
class TaperStep:
    """T11: how a taper step (not an emergency stop) is judged."""

    band: Band | None  # the taper band it is checked against; None for the final step to 0 mcg/day
    not_before: datetime | None  # set while the previous step is less than the policy spacing ago
    final_step_too_high: bool  # a step to 0 mcg/day from above `taper_final_step_max_mcg`

    @property
    def allowed_now(self) -> bool:
        return self.not_before is None and not self.final_step_too_high


def taper_step(active_mcg: Decimal, new_mcg: Decimal, previous_step_at: datetime | None, now: datetime,
               policy: Policy = DEFAULT_POLICY) -> TaperStep:  # fmt: skip
    """T11: discontinuation is a taper: one step per `taper_step_spacing_hours` after the previous step became
    active; each step lowers the active dose by at most 20 % (TAPER_BAND), except the final step to 0 mcg/day,
    which is taken from `taper_final_step_max_mcg` or below."""
    not_before = None
    if previous_step_at is not None:
        due = utc(previous_step_at) + timedelta(hours=policy.taper_step_spacing_hours)
        not_before = due if utc(now) < due else None
    final = new_mcg == 0
    return TaperStep(
        band=None if final else TAPER_BAND,
        not_before=not_before,
        final_step_too_high=final and active_mcg > policy.taper_final_step_max_mcg,
    )


def emergency_stop_problem(reason: str) -> str | None:
    """T11: stopping without a taper is only for a serious adverse reaction, documented."""
    if reason.strip():
        return None
    return "T11: an emergency stop for a serious adverse reaction needs the reaction documented (reason)."


@dataclass(frozen=True)
class RestartCheck:
    """T14: a restart after a stop, against the last non-zero daily dose."""

    above_last_dose: bool  # needs a neurologist's override with a reason
    notices: tuple[str, ...]
    allowed_min_mcg: Decimal
    allowed_max_mcg: Decimal


def check_restart(last_nonzero_mcg: Decimal, new_mcg: Decimal) -> RestartCheck:
    """T14: the restart dose is proposed directly (no percentage band); above the last non-zero daily dose it needs
    an override with a reason. The proposal shows that dose and the W1 guidance."""
    return RestartCheck(
        above_last_dose=new_mcg > last_nonzero_mcg,
        notices=(
            f"T14: the last non-zero daily dose was {last_nonzero_mcg} mcg/day.",
            "W1: restore intrathecal delivery at or near the previous dose; oral baclofen alone does not halt "
            "intrathecal withdrawal.",
        ),
        allowed_min_mcg=CENT,
        allowed_max_mcg=last_nonzero_mcg.quantize(CENT, rounding=ROUND_FLOOR),
    )


# T7: time-of-day segments. Each segment runs from its start to the next one's (the last to midnight) at a
# percent of the base hourly rate; the base rate is whatever makes the day's segments deliver the daily total.


@dataclass(frozen=True)
class Segment:
    start_minute: int  # minutes after midnight
    percent: Decimal


def flat_program() -> tuple[Segment, ...]:
    return (Segment(0, Decimal("100")),)


def validate_segments(segments: tuple[Segment, ...]) -> list[str]:
    """T7: segments start at midnight, in increasing order of time, with positive percents."""
    problems = []
    if not segments or segments[0].start_minute != 0:
        problems.append("T7: the first segment starts at 00:00.")
    starts = [s.start_minute for s in segments]
    if starts != sorted(set(starts)) or any(not 0 <= m < MINUTES_PER_DAY for m in starts):
        problems.append("T7: segment start times must be different times of day, in increasing order.")
    if any(s.percent <= 0 for s in segments):
        problems.append("T7: every segment's percent must be above 0.")
    return problems


def segment_minutes(segments: tuple[Segment, ...]) -> list[int]:
    ends = [s.start_minute for s in segments[1:]] + [MINUTES_PER_DAY]
    return [end - s.start_minute for s, end in zip(segments, ends, strict=True)]


def segment_rates_mcg_per_hour(daily_mcg: Decimal, segments: tuple[Segment, ...]) -> list[Decimal]:
    """T7: the hourly rate of each segment, such that the day's segments deliver `daily_mcg` in total."""
    weighted_hours = sum(
        (s.percent / 100 * Decimal(m) / 60 for s, m in zip(segments, segment_minutes(segments), strict=True)),
        Decimal(0),
    )
    base_rate = daily_mcg / weighted_hours
    return [base_rate * s.percent / 100 for s in segments]


def daily_total_mcg(segments: tuple[Segment, ...], rates_mcg_per_hour: list[Decimal]) -> Decimal:
    """T7: what a day of the program delivers: the figure checked against T3-T6."""
    return sum(
        (r * Decimal(m) / 60 for r, m in zip(rates_mcg_per_hour, segment_minutes(segments), strict=True)), Decimal(0)
    )


# --- Reservoir and refills (R1-R5) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramPeriod:
    """A program in force from `start` (until the next one starts) delivering `daily_mcg` per day."""

    start: datetime
    daily_mcg: Decimal
    # T15: the strength the pump was programmed with for this period, when not the one of the fill (None).
    concentration_mcg_per_ml: Decimal | None = None


def volume_at(moment: datetime, refilled_at: datetime, volume_after_refill_ml: Decimal,
              concentration_mcg_per_ml: Decimal, programs: list[ProgramPeriod]) -> Decimal:  # fmt: skip
    """R2: the reservoir estimate follows the program in force over time: each change alters the slope from the
    moment it became active."""
    used_mcg, used_ml_other = Decimal(0), Decimal(0)
    moment, refilled_at = utc(moment), utc(refilled_at)
    ordered = sorted(
        (ProgramPeriod(utc(p.start), p.daily_mcg, p.concentration_mcg_per_ml) for p in programs), key=lambda p: p.start
    )
    for i, period in enumerate(ordered):
        start = max(period.start, refilled_at)
        end = min(ordered[i + 1].start, moment) if i + 1 < len(ordered) else moment
        if end > start:
            mcg = period.daily_mcg * Decimal((end - start).total_seconds()) / Decimal(86400)
            # T15: the pump's volume rate follows the strength it was programmed with (the old one until the new
            # program became active).
            if period.concentration_mcg_per_ml is None:
                used_mcg += mcg
            else:
                used_ml_other += mcg / period.concentration_mcg_per_ml
    return volume_after_refill_ml - used_mcg / concentration_mcg_per_ml - used_ml_other


def days_to_alarm(
    volume_ml: Decimal, alarm_ml: Decimal, concentration_mcg_per_ml: Decimal, daily_mcg: Decimal
) -> Decimal:
    """R2: (current volume - alarm volume) x concentration / daily dose."""
    return (volume_ml - alarm_ml) * concentration_mcg_per_ml / daily_mcg


def alarm_time(moment: datetime, volume_now_ml: Decimal, alarm_ml: Decimal, concentration_mcg_per_ml: Decimal,
               daily_mcg: Decimal) -> datetime:  # fmt: skip
    """R2: when the low-reservoir alarm volume is reached at the program now in force."""
    days = days_to_alarm(volume_now_ml, alarm_ml, concentration_mcg_per_ml, daily_mcg)
    # Exact Decimal days to whole microseconds (timedelta's resolution), without passing through a float.
    return utc(moment) + timedelta(microseconds=int((days * 86_400_000_000).to_integral_value()))


def refill_due(alarm_at: datetime, policy: Policy = DEFAULT_POLICY) -> datetime:
    """R2: refill due date = alarm date - 3 days (policy buffer)."""
    return utc(alarm_at) - timedelta(days=policy.refill_buffer_days)


def refill_reminder_days(high_withdrawal_risk: bool, policy: Policy = DEFAULT_POLICY) -> tuple[int, ...]:
    """R3/R4: days before the due date at which reminders fall; high withdrawal risk adds the 21-day one."""
    days = set(policy.refill_reminder_days)
    if high_withdrawal_risk:
        days.add(policy.high_risk_first_reminder_days)
    return tuple(sorted(days, reverse=True))


def refill_reminder_level(days_before: int, policy: Policy = DEFAULT_POLICY) -> tuple[Severity, str]:
    """R3/R4: reminders from 3 days before the due date on are warnings; the extra early one is R4's."""
    rule = "R4" if days_before > max(policy.refill_reminder_days) else "R3"
    return (Severity.WARNING if days_before <= policy.refill_warning_days else Severity.INFO), rule


@dataclass(frozen=True)
class RefillReminder:
    """R3/R4: one reminder of a refill due date: its level (days before the due date) and when it is raised."""

    days_before: int
    at: datetime


def refill_reminders(due_at: datetime, set_at: datetime, levels: tuple[int, ...],
                     earlier_levels: tuple[int, ...] = ()) -> tuple[RefillReminder, ...]:  # fmt: skip
    """R3/R4: the reminders of a refill due at `due_at`, their schedule being set at `set_at`. A level still ahead
    is raised at its time. Of the levels already past, only the nearest is raised, at once (the others would only
    repeat it late), and not when it is one of `earlier_levels`, those of the schedule this one replaces for the
    same due date (R4: a withdrawal-risk change), which raised it in its time. None once the due date itself has
    passed: the overdue alert takes over."""
    due_at, set_at = utc(due_at), utc(set_at)
    if due_at <= set_at:
        return ()
    ahead = [RefillReminder(d, due_at - timedelta(days=d)) for d in levels if due_at - timedelta(days=d) > set_at]
    past = [d for d in levels if due_at - timedelta(days=d) <= set_at]
    if past and min(past) not in earlier_levels:
        ahead.append(RefillReminder(min(past), set_at))
    return tuple(sorted(ahead, key=lambda r: r.at))


def residual_discrepancy(expected_ml: Decimal, found_ml: Decimal, policy: Policy = DEFAULT_POLICY) -> Decimal | None:
    """R5: the gap between the residual expected and the one found, when it is beyond the policy limit."""
    gap = abs(found_ml - expected_ml)
    return gap if gap > policy.residual_discrepancy_ml else None


# --- Concentration change at a refill (T15) ---------------------------------------------------------------------
# Exact Decimal arithmetic throughout; the figures are rounded only to be shown: hours to 0.1 h and the daily dose
# during the transition to 0.01 mcg/day, both half-even (TRANSITION_HOURS, TRANSITION_DOSE).

TRANSITION_HOURS = Decimal("0.1")
TRANSITION_DOSE = CENT


@dataclass(frozen=True)
class ConcentrationTransition:
    """T15: after a change of strength, the old-strength drug left in the pump's and catheter's dead space is
    delivered first, at the new program's rate."""

    old_concentration_mcg_per_ml: Decimal
    new_concentration_mcg_per_ml: Decimal
    dead_space_ml: Decimal
    intended_daily_mcg: Decimal  # the new program's daily total (T7: segments included)
    rate_ml_per_day: Decimal  # the new program's rate: intended dose / new strength (T2)
    hours: Decimal  # how long the dead space lasts at that rate
    daily_dose_mcg_during: Decimal  # old strength x new rate: what the patient gets meanwhile
    warning: bool  # more than `concentration_transition_warning_percent` away from the intended dose

    @property
    def percent_of_intended(self) -> Decimal:
        return self.daily_dose_mcg_during / self.intended_daily_mcg * 100

    def message(self) -> str:
        """The warning in words, with what to watch for (W1 below the intended dose, O1 above it)."""
        watch = (
            "watch for withdrawal signs (W1)"
            if self.daily_dose_mcg_during < self.intended_daily_mcg
            else "watch for overdose signs (O1)"
        )
        return (
            f"T15: for about {self.hours.quantize(TRANSITION_HOURS)} h after the new program starts, the "
            f"{self.old_concentration_mcg_per_ml} mcg/mL drug left in the dead space ({self.dead_space_ml} mL) runs "
            f"at the new rate: {self.daily_dose_mcg_during.quantize(TRANSITION_DOSE)} mcg/day, "
            f"{self.percent_of_intended.quantize(Decimal('1'))} % of the intended {self.intended_daily_mcg} mcg/day; "
            f"{watch}."
        )


def concentration_transition(old_concentration_mcg_per_ml: Decimal, new_concentration_mcg_per_ml: Decimal,
                             daily_mcg: Decimal, dead_space_ml: Decimal,
                             policy: Policy = DEFAULT_POLICY) -> ConcentrationTransition:  # fmt: skip
    """T15: new rate (mL/day) = daily dose / new strength; the dead space lasts dead space / rate x 24 h; meanwhile
    the patient gets old strength x new rate per day, a warning when more than the policy percent (20 %) away from
    the intended daily dose. `daily_mcg` is the new program's daily total (T7), above 0."""
    rate = rate_ml_per_day(daily_mcg, new_concentration_mcg_per_ml)
    during = old_concentration_mcg_per_ml * rate
    # Compared exactly: |during - intended| x 100 > limit x intended.
    off = abs(during - daily_mcg) * 100 > policy.concentration_transition_warning_percent * daily_mcg
    return ConcentrationTransition(
        old_concentration_mcg_per_ml=old_concentration_mcg_per_ml,
        new_concentration_mcg_per_ml=new_concentration_mcg_per_ml,
        dead_space_ml=dead_space_ml,
        intended_daily_mcg=daily_mcg,
        rate_ml_per_day=rate,
        hours=dead_space_ml / rate * HOURS_PER_DAY,
        daily_dose_mcg_during=during,
        warning=off,
    )


def faster_program(current: tuple[Decimal, Decimal], pending: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
    """R2/T15: of two programs (strength mcg/mL, daily mcg), the one that empties the reservoir sooner (the larger
    rate in mL/day). While a concentration change waits for signature and programming, the refill date is taken at
    the faster of the program running and the one pending, so that neither makes the alarm come earlier than
    announced."""
    return max(current, pending, key=lambda program: program[1] / program[0])


def concentration_change_kind(active_mcg: Decimal, new_mcg: Decimal, phase: Phase) -> DoseChangeKind:
    """T15: the new program keeps the daily dose unless changed under T3-T6: an increase is a refill adjustment in
    maintenance (T5; T3 in titration), spaced and banded as any; a decrease an adverse-effect reduction (T6)."""
    if new_mcg == active_mcg:
        return DoseChangeKind.CONCENTRATION_CHANGE
    if new_mcg > active_mcg:
        return DoseChangeKind.REFILL_ADJUSTMENT if phase == Phase.MAINTENANCE else DoseChangeKind.TITRATION
    return DoseChangeKind.ADVERSE_EFFECT_REDUCTION
