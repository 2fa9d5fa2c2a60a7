"""The clinical protocol as pure rules: numbers in, decisions out.

Every clinical number and band of protocol.md lives here, next to the rule id that states it. No Django, no I/O;
doses are `Decimal`. Values the monograph leaves open are `policy` defaults, collected in `Policy` so a hospital
can override them in one place (settings.WARDFLOW_POLICY) without touching the rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
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
