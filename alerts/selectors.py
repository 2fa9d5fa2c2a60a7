from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat

from wardflow import protocol
from wardflow.errors import DomainError, RoleNotAllowed
from wardflow.staff.models import Role

from .models import Alert

STILL_OPEN = (Alert.State.OPEN, Alert.State.ESCALATED)
SEVERITY_RANK = {protocol.Severity.URGENT: 0, protocol.Severity.WARNING: 1, protocol.Severity.INFO: 2}


def visible_alerts(user) -> QuerySet[Alert]:
    """The caller's alerts: those addressed to their role on their wards; neurologists also get escalated ones."""
    role = getattr(user, "role", None)
    if role not in (Role.NURSE, Role.NEUROLOGIST):
        return Alert.objects.none()
    mine = Q(target_role=role)
    if role == Role.NEUROLOGIST:
        mine |= Q(escalated_at__isnull=False)
    return Alert.objects.filter(mine, ward__in=user.ward_ids).order_by("-raised_at", "-id")


def acknowledge_refusal(user, alert: Alert) -> DomainError | None:
    """A2: urgent alerts are acknowledged by a neurologist; the one place that says who may acknowledge what."""
    if not protocol.may_acknowledge(protocol.Severity(alert.severity), user.role):
        return RoleNotAllowed("Urgent alerts must be acknowledged by a neurologist.", rule="A2")
    return None


def inbox_alerts(user) -> QuerySet[Alert]:
    """The ward inbox of the web pages: the caller's alerts (`visible_alerts`, the API's contract) and, for a nurse,
    every urgent alert of her wards (S10, O1, V1, R4, T10 and the like go to the neurologists), to read at the
    bedside; `acknowledge_refusal` still says who may acknowledge them (A2)."""
    mine = visible_alerts(user)
    if getattr(user, "role", None) == Role.NURSE:
        mine |= Alert.objects.filter(ward__in=user.ward_ids, severity=protocol.Severity.URGENT)
    return mine


def _about(field: str):
    """What an alert is about: a check's alert (A1's missed hour, R3's daily overdue) is about the check's own
    subject (the test dose, the refill, the pump), so that one missed hour after another is one problem."""
    return Case(
        When(subject_type="alerts.duecheck", source_check__isnull=False, then=F(f"source_check__{field}")),
        default=F(field),
    )


def with_problem(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """Each alert with the key of the open problem it belongs to: its kind, patient and what it is about."""
    return alerts.annotate(
        problem=Concat(
            "kind", Value(":"), Cast("patient_id", CharField()), Value(":"),
            _about("subject_type"), Value(":"), _about("subject_id"), output_field=CharField(),
        )
    )  # fmt: skip


@dataclass
class AlertGroup:
    """One open problem in the inbox: the alerts of one kind about one subject, newest first."""

    alerts: list[Alert]
    # A2: why the caller may only read it (an urgent alert is a neurologist's to acknowledge); None if they may.
    refusal: DomainError | None = None

    @property
    def latest(self) -> Alert:
        return self.alerts[0]

    @property
    def count(self) -> int:
        return len(self.alerts)

    @property
    def first_raised_at(self) -> datetime:
        return self.alerts[-1].raised_at

    @property
    def last_raised_at(self) -> datetime:
        return self.latest.raised_at

    @property
    def severity(self) -> str:
        return min((a.severity for a in self.alerts), key=SEVERITY_RANK.get)

    @property
    def escalated(self) -> bool:
        """A1/A2: one of its alerts was left unacknowledged and went to the neurologists."""
        return any(a.state == Alert.State.ESCALATED for a in self.alerts)

    @property
    def state(self) -> str:
        if self.escalated:
            return Alert.State.ESCALATED
        return Alert.State.OPEN if any(a.state == Alert.State.OPEN for a in self.alerts) else self.latest.state

    @property
    def problem(self) -> str:
        return self.latest.problem


def problem_of(user, alerts: list[Alert]) -> AlertGroup:
    """One problem's alerts (newest first) with what keeps the caller from acknowledging them, if anything (A2)."""
    refusal = next(filter(None, (acknowledge_refusal(user, a) for a in alerts)), None)
    return AlertGroup(alerts=alerts, refusal=refusal)


def open_problems(user) -> list[AlertGroup]:
    """The caller's open and escalated alerts, one group per problem: urgent first, escalated before open, then the
    most recently raised."""
    alerts = with_problem(inbox_alerts(user).filter(state__in=STILL_OPEN)).select_related("patient")
    groups: dict[str, list[Alert]] = {}
    for alert in alerts.order_by("-raised_at", "-id"):
        groups.setdefault(alert.problem, []).append(alert)
    problems = [problem_of(user, group) for group in groups.values()]
    return sorted(problems, key=lambda g: (SEVERITY_RANK[g.severity], not g.escalated, -g.last_raised_at.timestamp()))


def open_alerts_of_problem(user, pk: int) -> tuple[Alert, list[Alert]]:
    """An alert of the caller's inbox (Alert.DoesNotExist otherwise) and the still-open alerts of its problem."""
    alerts = with_problem(inbox_alerts(user)).select_related("patient")
    alert = alerts.get(pk=pk)
    return alert, list(alerts.filter(problem=alert.problem, state__in=STILL_OPEN).order_by("-raised_at", "-id"))


@dataclass(frozen=True)
class AlertCounter:
    open: int
    urgent: int


def alert_counter(user) -> AlertCounter:
    """The navigation's count of open problems in the caller's inbox, and of the urgent ones: one query."""
    alerts = with_problem(inbox_alerts(user).filter(state__in=STILL_OPEN)).order_by()
    counts = alerts.aggregate(
        open=Count("problem", distinct=True),
        urgent=Count("problem", distinct=True, filter=Q(severity=protocol.Severity.URGENT)),
    )
    return AlertCounter(open=counts["open"], urgent=counts["urgent"])
