"""The ward's alert inbox (A1, A2): one row per open problem with its count and first and last time, its state in
words, acknowledged as one; a count in the navigation; urgent alerts shown to the ward's nurses to read; and an
acknowledged observation still due on the board until it is charted."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from alerts import services as alerts
from alerts.models import Alert
from alerts.selectors import alert_counter
from screening import services as screening
from screening.kinds import AlertKind
from tests.web.support import logged_in
from wardflow.audit.models import AuditEvent
from wardflow.protocol import Severity
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 09:00 GMT on the ward
pytestmark = pytest.mark.django_db


@pytest.fixture
def dosed(clock, make_patient, ward, nurse, neurologist, chart_baseline):
    """Test dose 1 given at T0: its observations fall due hourly from 10:00 (S5)."""
    patient = make_patient(ward, "AL-1", family_name="Moss", given_name="Ada")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    chart_baseline(nurse, trial, T0)
    screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                             volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                             resuscitation_ready=True)  # fmt: skip
    return patient


def miss_hours(clock, hours: int) -> None:
    """Nobody charts: each hour's A1 check finds its observation missing 20 minutes after it fell due."""
    for hour in range(1, hours + 1):
        clock.move_to(T0 + timedelta(hours=hour, minutes=20))
        alerts.dispatch_due_checks()


def urgent_alert(patient) -> Alert:
    """S10: an urgent alert addressed to the ward's neurologists."""
    with transaction.atomic():
        return alerts.raise_alert(kind=AlertKind.SERIOUS_ADVERSE_EVENT, severity=Severity.URGENT, patient=patient,
                                  rule="S10", message="S10: respiratory depression charted.",
                                  target_role=Role.NEUROLOGIST, subject=patient)  # fmt: skip


def test_five_missed_hours_are_one_row_with_their_count_and_first_and_last_time(clock, dosed, nurse):
    miss_hours(clock, 5)
    page = logged_in(nurse).get("/alerts/").content.decode()
    assert Alert.objects.filter(kind=AlertKind.OBSERVATION_OVERDUE, state__in=["open", "escalated"]).count() == 5
    assert page.count('data-testid="alert-row"') == 1
    assert 'data-testid="problem-count">5 alerts<' in page
    assert 'First <time datetime="2026-11-02T10:20:00+00:00" class="clock">10:20</time>' in page
    assert 'last <time datetime="2026-11-02T14:20:00+00:00" class="clock">14:20</time>' in page
    assert page.count("<li>") >= 5 and "<details" in page  # each alert's message, opened by a tap
    assert "title=" not in page.split('data-testid="alert-row"')[1]  # no hover-only tooltip


def test_the_board_shows_one_badge_per_problem_with_its_count(clock, dosed, nurse):
    miss_hours(clock, 5)
    board = logged_in(nurse).get("/ward/").content.decode()
    assert board.count("A1 observation overdue") == 1
    assert "A1 observation overdue \N{MULTIPLICATION SIGN}5" in board


def test_an_escalated_problem_says_so_in_words(clock, dosed, nurse):
    miss_hours(clock, 1)
    clock.move_to(T0 + timedelta(hours=2, minutes=5))  # A1: unacknowledged for 30 min (and the 2 h one missed)
    alerts.dispatch_due_checks()
    page = logged_in(nurse).get("/alerts/").content.decode()
    assert 'data-testid="problem-state">Escalated to the neurologists' in page
    assert "state-escalated" in page


def test_acknowledging_the_row_acknowledges_each_alert_with_its_own_audit_event(clock, dosed, nurse):
    miss_hours(clock, 5)
    latest = Alert.objects.order_by("-raised_at").first()
    response = logged_in(nurse).post(f"/alerts/{latest.pk}/acknowledge/")
    assert response.status_code == 200
    assert b"Acknowledged by nina" in response.content
    assert not Alert.objects.filter(state__in=["open", "escalated"]).exists()
    assert set(Alert.objects.values_list("acknowledged_by", flat=True)) == {nurse.pk}
    assert AuditEvent.objects.filter(action="alert.acknowledged", actor=nurse).count() == 5


def test_the_navigation_counts_open_problems_and_the_urgent_ones(clock, dosed, nurse):
    miss_hours(clock, 3)
    urgent_alert(dosed)
    page = logged_in(nurse).get("/ward/").content.decode()
    assert 'data-testid="alert-count">2<span class="sr-only"> open</span>' in page  # three A1 alerts are one
    assert 'data-testid="urgent-count">1 urgent<' in page


def test_the_navigation_shows_no_count_without_open_alerts(clock, dosed, nurse):
    page = logged_in(nurse).get("/ward/").content.decode()
    assert 'data-testid="nav-alerts">Alerts</a>' in page


def test_the_alert_counter_is_one_query_however_many_alerts(clock, make_patient, ward, nurse,
                                                             django_assert_num_queries):  # fmt: skip
    for i in range(6):
        patient = make_patient(ward, f"CNT-{i}")
        urgent_alert(patient)
        with transaction.atomic():
            alerts.raise_alert(kind=AlertKind.OBSERVATION_OVERDUE, severity=Severity.WARNING, patient=patient,
                               rule="A1", message="A1", target_role=Role.NURSE, subject=patient)  # fmt: skip
    nurse.role, nurse.ward_ids  # noqa: B018 - read once per request before any page is drawn
    with django_assert_num_queries(1):
        counter = alert_counter(nurse)
    assert (counter.open, counter.urgent) == (12, 6)


def test_a_nurse_sees_an_urgent_alert_read_only_and_is_told_who_acknowledges(clock, dosed, nurse, api_as):
    alert = urgent_alert(dosed)
    client = logged_in(nurse)
    page = client.get("/alerts/").content.decode()
    assert "respiratory depression charted." in page
    assert 'data-testid="read-only">Read only: Urgent alerts must be acknowledged by a neurologist.' in page
    assert f'hx-post="/alerts/{alert.pk}/acknowledge/"' not in page
    refused = client.post(f"/alerts/{alert.pk}/acknowledge/")
    assert b"Urgent alerts must be acknowledged by a neurologist." in refused.content
    alert.refresh_from_db()
    assert alert.state == "open"
    assert not AuditEvent.objects.filter(action="alert.acknowledged").exists()
    # The API's contract is unchanged: a nurse's alerts there are those addressed to nurses.
    assert api_as(nurse).get("/api/v1/alerts/").json()["results"] == []


def test_a_neurologist_acknowledges_the_urgent_alert_from_the_same_inbox(clock, dosed, neurologist):
    alert = urgent_alert(dosed)
    page = logged_in(neurologist).get("/alerts/").content.decode()
    assert f'hx-post="/alerts/{alert.pk}/acknowledge/"' in page
    assert 'data-testid="read-only"' not in page


def test_an_acknowledged_uncharted_observation_stays_due_on_the_board(clock, dosed, nurse):
    miss_hours(clock, 1)  # the 10:00 observation is missing at 10:20
    client = logged_in(nurse)
    client.post(f"/alerts/{Alert.objects.get().pk}/acknowledge/")
    due = client.get("/ward/").content.decode().split('data-testid="next-due">')[1].split("</td>")[0]
    assert due.startswith("Observation")
    assert '<time datetime="2026-11-02T10:00:00+00:00" class="clock overdue">10:00</time>' in due
    assert "20 min overdue" in due


def test_the_observation_charted_late_leaves_the_board(clock, dosed, nurse):
    miss_hours(clock, 1)
    client = logged_in(nurse)
    client.post(f"/alerts/{Alert.objects.get().pk}/acknowledge/")
    screening.chart_observation(actor=nurse, patient=dosed, trial=dosed.screening_trials.get(),
                                observed_at=T0 + timedelta(hours=1, minutes=5), ashworth_mean=Decimal("3"),
                                penn_spasm_frequency=Decimal("3"), heart_rate=Decimal("72"),
                                systolic_bp=Decimal("124"), diastolic_bp=Decimal("78"),
                                respiratory_rate=Decimal("14"), spo2=Decimal("98"), temperature_c=Decimal("36.8"),
                                sedation="alert")  # fmt: skip
    due = client.get("/ward/").content.decode().split('data-testid="next-due">')[1].split("</td>")[0]
    assert 'datetime="2026-11-02T11:00:00+00:00"' in due  # the 2 h observation is next
    assert "overdue" not in due
