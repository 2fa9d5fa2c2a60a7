"""The caution strip where a dose is decided (P1 infection, P3 oral antispasmodics, P4 withdrawal risk, P5 cautions,
V1 latest NEWS2), and its compact markers on the board, read without a query per row."""

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from screening import services as screening
from tests.titration.support import candidate_trial, implant_fields
from tests.web.support import logged_in
from titration import services as titration
from wardflow.patients.services import update_patient_flags
from web import selectors

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
FLAGGED = {"oral_antispasmodics": "oral baclofen 20 mg tid", "sci_t6_or_above": True, "date_of_birth": date(1950, 3, 1)}
ALL_KINDS = ["infection", "antispasmodics", "p5", "withdrawal", "news2"]
pytestmark = pytest.mark.django_db


def kinds_in_strip(page: str) -> list[str]:
    strip = page.split('data-testid="caution-strip"', 1)[1].split("</section>", 1)[0]
    return [kind for kind in ALL_KINDS if f'data-kind="{kind}"' in strip]


@pytest.fixture
def screening_patient(clock, make_patient, ward, nurse, neurologist, chart_baseline):
    """A flagged patient whose first test dose is being observed; the infection is charted afterwards."""
    patient = make_patient(ward, "CAU-S", **FLAGGED)
    trial = screening.open_trial(actor=neurologist, patient=patient)
    chart_baseline(nurse, trial, T0)
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    patient = update_patient_flags(actor=nurse, patient=patient, changes={"active_infection": True})
    return patient, trial, dose


@pytest.fixture
def pump_patient(clock, make_patient, ward, nurse, neurologist):
    """A flagged patient with a pump whose initial dose waits for its signature; the infection is charted after."""
    patient = make_patient(ward, "CAU-P", **FLAGGED)
    trial = candidate_trial(clock, neurologist, nurse, patient)
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial))
    patient = update_patient_flags(actor=nurse, patient=patient, changes={"active_infection": True})
    return patient, trial, pump, pump.dose_changes.get()


@pytest.mark.parametrize("role", ["nurse", "neurologist"])
def test_the_give_dose_page_shows_the_infection_before_any_submit_p1(screening_patient, role, request):
    _, trial, _ = screening_patient
    page = logged_in(request.getfixturevalue(role)).get(f"/trials/{trial.pk}/dose/").content.decode()
    assert kinds_in_strip(page) == ALL_KINDS
    assert "Active infection charted: no test dose or implant until it is charted resolved." in page


def test_the_assessment_page_shows_every_caution(screening_patient, neurologist):
    _, _, dose = screening_patient
    page = logged_in(neurologist).get(f"/doses/{dose.pk}/assess/").content.decode()
    assert kinds_in_strip(page) == ALL_KINDS


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("neurologist", "/trials/{trial}/implant/"),
        ("nurse", "/pumps/{pump}/propose/"),
        ("neurologist", "/dose-changes/{change}/approve/"),
        ("nurse", "/dose-changes/{change}/program/"),
        ("neurologist", "/dose-changes/{change}/read-back/"),
        ("nurse", "/pumps/{pump}/refill/"),
        ("nurse", "/patients/{patient}/"),
    ],
)
def test_each_dose_decision_screen_of_a_pump_shows_every_caution(pump_patient, role, path, request):
    patient, trial, pump, change = pump_patient
    url = path.format(trial=trial.pk, pump=pump.pk, change=change.pk, patient=patient.pk)
    page = logged_in(request.getfixturevalue(role)).get(url).content.decode()
    assert kinds_in_strip(page) == ALL_KINDS


def test_the_strip_says_the_p3_taper_the_p5_age_the_p4_factors_and_the_news2(pump_patient):
    patient, *_ = pump_patient
    strip = {c.kind: c for c in selectors.caution_strip(patient, date(2026, 10, 1))}
    assert "do not stop them abruptly" in strip["antispasmodics"].text and strip["antispasmodics"].rule == "P3"
    assert strip["p5"].text.startswith("Aged 76") and strip["p5"].rule == "P5"
    assert "spinal cord injury at T6 or above" in strip["withdrawal"].text and strip["withdrawal"].rule == "P4"
    assert strip["infection"].severity == "urgent" and strip["infection"].rule == "P1"
    assert strip["news2"].rule == "V1" and strip["news2"].text.startswith("Latest NEWS2 ")


def test_the_age_caution_starts_at_65_p5(make_patient, ward):
    patient = make_patient(ward, "AGE", date_of_birth=date(1961, 10, 2))
    assert [c.kind for c in selectors.caution_strip(patient, date(2026, 10, 1))] == []
    assert [c.short for c in selectors.caution_strip(patient, date(2026, 10, 2))] == ["aged 65"]


def test_news2_joins_the_strip_once_an_observation_is_scored_v1(clock, make_patient, ward, nurse, neurologist,
                                                                chart_baseline):  # fmt: skip
    patient = make_patient(ward, "NEWS")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    assert selectors.caution_strip(patient, date(2026, 10, 1)) == []
    chart_baseline(nurse, trial, T0)
    (news2,) = selectors.caution_strip(patient, date(2026, 10, 1))
    assert (news2.kind, news2.text, news2.severity) == ("news2", "Latest NEWS2 0 (low risk)", "info")


def test_a_patient_without_cautions_is_told_none_are_charted(clock, make_patient, ward, neurologist):
    patient = make_patient(ward, "CLEAR")
    trial = screening.open_trial(actor=neurologist, patient=patient)
    page = logged_in(neurologist).get(f"/trials/{trial.pk}/dose/").content.decode()
    assert kinds_in_strip(page) == [] and "None charted" in page


def test_the_board_marks_each_patients_cautions(pump_patient, make_patient, ward, nurse):
    make_patient(ward, "CLEAR")
    rows = logged_in(nurse).get("/ward/", HTTP_HX_REQUEST="true").content.decode().split('data-testid="board-row"')[1:]
    flagged, clear = sorted(rows, key=lambda row: "CAU-P" not in row)
    assert 'data-kind="infection">P1 active infection' in flagged
    assert 'data-kind="antispasmodics">P3 oral antispasmodics: taper' in flagged
    assert 'data-kind="p5">P5 aged 76' in flagged
    assert 'data-kind="withdrawal">P4 high withdrawal risk' in flagged
    assert "caution-markers" not in clear


def test_the_board_reads_the_cautions_without_a_query_per_row(clock, make_patient, ward, nurse,
                                                               django_assert_max_num_queries):  # fmt: skip
    for i in range(12):
        make_patient(ward, f"F{i}", active_infection=i % 2 == 0, history_of_withdrawal=i % 3 == 0,
                     renal_impairment=True, oral_antispasmodics="tizanidine")  # fmt: skip
    client = logged_in(nurse)
    # session, user, role, ward ids, patients, trials, pumps, due checks, alerts, and the session save
    with django_assert_max_num_queries(12):
        response = client.get("/ward/", HTTP_HX_REQUEST="true")
    assert response.content.decode().count('data-kind="p5"') == 12


def test_the_strip_reads_one_query_at_most(pump_patient, django_assert_max_num_queries):
    patient, *_ = pump_patient
    with django_assert_max_num_queries(1):
        assert len(selectors.caution_strip(patient, timezone.localdate())) == 5


def test_a_low_medium_news2_is_urgent_in_the_strip_as_its_alert_is_v1():
    scored = SimpleNamespace(news2_score=5, news2_risk="low_medium", observed_at=None, entered_in_error=False)
    patient = SimpleNamespace(active_infection=False, high_withdrawal_risk=False, cautions=lambda today: [])
    (news2,) = selectors.caution_strip(patient, None, [scored])
    assert news2.severity == "urgent"
