"""The clinical protocol as pure rules: numbers in, decisions out.

Every clinical number and band of protocol.md lives here, next to the rule id that states it. No Django, no I/O;
doses are `Decimal`. Values the monograph leaves open are `policy` defaults, collected in `Policy` so a hospital
can override them in one place (settings.WARDFLOW_POLICY) without touching the rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

PROTOCOL_VERSION = "2026.1"


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
    observation_early_minutes: int = 30  # A1: an observation this early still counts for its due time
    positive_ashworth_drop: Decimal = Decimal("1.0")  # S7
    positive_penn_drop: Decimal = Decimal("1")  # S7

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


def age_years(date_of_birth: date, on: date) -> int:
    """Completed years of age on a given day."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


def age_band(date_of_birth: date, on: date, policy: Policy = DEFAULT_POLICY) -> AgeBand:
    """Pediatric under 18 years at the time of the decision (policy), adult from then on."""
    return AgeBand.ADULT if age_years(date_of_birth, on) >= policy.adult_age_years else AgeBand.PEDIATRIC


def high_withdrawal_risk(
    *, sci_t6_or_above: bool, communication_difficulties: bool, history_of_withdrawal: bool
) -> bool:
    """P4: any one recorded risk factor makes the patient high withdrawal risk."""
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
SERIOUS_ADVERSE_SIGNS = frozenset({"respiratory_depression", "seizure", "loss_of_consciousness"})
OTHER_SIGNS = frozenset({"nausea", "headache", "hypotonia"})
ALL_SIGNS = WITHDRAWAL_SIGNS | OVERDOSE_SIGNS | OTHER_SIGNS

# S5: Modified Ashworth steps 0, 1, 1+, 2, 3, 4 are stored as these numbers; the charted value is their mean.
ASHWORTH_STEPS = (Decimal("0"), Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("3"), Decimal("4"))

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
OVERDOSE_GUIDANCE = "O1: signs of baclofen overdose. Assess the patient now and consider emptying the pump reservoir."


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
    return previous_given_at + TEST_DOSE_SPACING


def observation_schedule(given_at: datetime, policy: Policy = DEFAULT_POLICY) -> list[datetime]:
    """S5: when observations fall due after a test dose (policy: hourly, 1 to 8 h)."""
    return [given_at + timedelta(hours=h) for h in policy.observation_hours]


def observation_overdue_at(due_at: datetime, policy: Policy = DEFAULT_POLICY) -> datetime:
    """A1: an observation not charted this long after it fell due is overdue."""
    return due_at + timedelta(minutes=policy.observation_overdue_minutes)


def observation_fills_slot(observed_at: datetime, due_at: datetime, policy: Policy = DEFAULT_POLICY) -> bool:
    """A1: an observation charted from shortly before its due time counts for that time."""
    return observed_at >= due_at - timedelta(minutes=policy.observation_early_minutes)


def may_be_assessed(given_at: datetime, observed_times: list[datetime]) -> bool:
    """S6: a response is assessed only once an observation at 4 h or later after the dose is charted."""
    return any(t >= given_at + timedelta(hours=ASSESSMENT_WINDOW_HOURS[0]) for t in observed_times)


def in_assessment_window(given_at: datetime, observed_at: datetime) -> bool:
    low, high = ASSESSMENT_WINDOW_HOURS
    return given_at + timedelta(hours=low) <= observed_at <= given_at + timedelta(hours=high)


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


def stops_trial(signs: frozenset[str] | set[str]) -> bool:
    """S10: a serious adverse event suspends the trial pending neurologist review."""
    return bool(SERIOUS_ADVERSE_SIGNS & set(signs))
