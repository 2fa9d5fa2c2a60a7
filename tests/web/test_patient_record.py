"""The patient record as a clinician reads it: Ashworth in its clinical notation (S5), who entered each record and
when, the vital signs charted, and every chart on one y axis with its unit."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from screening import services as screening
from tests.screening.support import vitals
from tests.web.support import logged_in, screened_and_implanted
from titration import services as titration
from titration.models import Refill
from wardflow.staff.models import Role

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
VITAL_CHARTS = {"vital-heart_rate": "beats/min", "vital-blood_pressure": "mmHg",
                "vital-respiratory_rate": "breaths/min", "vital-spo2": "%", "vital-temperature": "°C"}  # fmt: skip
pytestmark = pytest.mark.django_db


@pytest.fixture
def named_nurse(make_staff, ward):
    nurse = make_staff(Role.NURSE, ward, username="nina")
    nurse.first_name, nurse.last_name = "Nina", "Okoro"
    nurse.save()
    return nurse


@pytest.fixture
def patient(clock, make_patient, ward):
    return make_patient(ward, "WEB-REC")


@pytest.fixture
def implanted(clock, patient, named_nurse, neurologist, second_nurse):
    return screened_and_implanted(patient, named_nurse, neurologist, second_nurse, T0)


def observe(nurse, patient, at, **values):
    return screening.chart_observation(actor=nurse, patient=patient, observed_at=at, signs=(),
                                       **{**vitals(), **values})  # fmt: skip


def record_charts(page: str) -> dict:
    found = re.search(r'id="record-charts" type="application/json">(.*?)</script>', page)
    assert found, "the page carries no record-charts payload"
    return json.loads(found.group(1))


def shown(page: str) -> str:
    """The page as read: without its scripts' data (where figures travel as plain decimals for plotting)."""
    return re.sub(r"<script.*?</script>", "", page, flags=re.S)


def all_charts(payload: dict) -> list[dict]:
    return [chart for charts in payload.values() for chart in charts]


def test_ashworth_1_plus_is_shown_as_1_plus_never_as_1_50(implanted, patient, neurologist):
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    assert '<td data-testid="observation-ashworth">1+</td>' in page
    assert "1.50" not in shown(page)
    curve = next(c for c in record_charts(page)["response"] if c["id"] == "curve-1-ashworth")
    assert [t["label"] for t in curve["y"]["ticks"]] == ["0", "1", "1+", "2", "3", "4"]
    assert [p["text"] for p in curve["datasets"][0]["points"]] == ["3", "2", "1+", "1+", "1", "1+"]
    assert "1+ at 2 h" in curve["summary"]


def test_an_ashworth_mean_between_steps_is_shown_with_one_decimal(clock, patient, named_nurse, neurologist):
    screening.open_trial(actor=neurologist, patient=patient)
    observe(named_nurse, patient, T0 - timedelta(minutes=5), ashworth_mean=Decimal("2.33"))
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    assert '<td data-testid="observation-ashworth">2.3</td>' in page
    assert "2.33" not in shown(page) and "2.3+" not in page


def test_the_assessment_page_shows_ashworth_in_its_notation(clock, patient, named_nurse, neurologist):
    trial = screening.open_trial(actor=neurologist, patient=patient)
    observe(named_nurse, patient, T0 - timedelta(minutes=30), ashworth_mean=Decimal("3"))
    dose = screening.give_test_dose(actor=named_nurse, trial=trial, administered_at=T0, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    clock.move_to(T0 + timedelta(hours=5))
    observe(named_nurse, patient, T0 + timedelta(hours=5), ashworth_mean=Decimal("1.5"))
    page = logged_in(neurologist).get(f"/doses/{dose.pk}/assess/").content.decode()
    assert "<td>1+</td>" in page
    assert "<td>1.50</td>" not in page


def test_the_observation_dose_and_refill_records_name_who_entered_them_and_when(implanted, clock, patient,
                                                                               named_nurse, neurologist):  # fmt: skip
    clock.move_to(T0 + timedelta(days=20))
    titration.record_refill(actor=named_nurse, pump=implanted, refilled_at=T0 + timedelta(days=20) - timedelta(hours=1),
                            volume_removed_ml=Decimal("4"), volume_added_ml=Decimal("16"),
                            concentration_mcg_per_ml=Decimal("500"), lot="RF-1", septum_access_confirmed=True,
                            aseptic_technique=True)  # fmt: skip
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    assert page.count("<th>Entered by</th><th>Entered at</th>") == 2  # observations and refills
    assert page.count('<td data-testid="observation-entered-by">Nina Okoro</td>') == 6
    assert '<td data-testid="refill-entered-by">Nina Okoro</td>' in page
    entered = Refill.objects.get().entered_at
    assert f'<time datetime="{entered.isoformat()}"' in page
    assert "Entered by Nina Okoro at" in page  # the test dose
    assert "<th>By</th>" not in page


def test_the_vital_signs_are_charted_over_the_observations_each_in_its_unit(implanted, patient, neurologist):
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    vitals_charts = {c["id"]: c for c in record_charts(page)["vitals"]}
    assert {i: c["y"]["unit"] for i, c in vitals_charts.items()} == VITAL_CHARTS
    pulse = vitals_charts["vital-heart_rate"]
    assert [Decimal(p["y"]) for p in pulse["datasets"][0]["points"]] == [76, 72, 70, 68, 66, 70]
    assert len(pulse["x"]["labels"]) == 6
    pressure = vitals_charts["vital-blood_pressure"]
    assert [d["label"] for d in pressure["datasets"]] == ["systolic", "diastolic"]
    for chart_id in VITAL_CHARTS:
        assert f'<canvas id="{chart_id}"' in page
        assert f'aria-describedby="{chart_id}-summary"' in page
    assert "lowest 66 beats/min, highest 76 beats/min" in pulse["summary"]


def test_every_record_chart_has_a_single_y_axis_and_charts_only_values_in_its_unit(implanted, patient, neurologist):
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    charts = all_charts(record_charts(page))
    assert {"curve-1-ashworth", "curve-1-penn", "dose-history", "reservoir-volume"} <= {c["id"] for c in charts}
    for chart in charts:
        assert set(chart) >= {"x", "y", "datasets", "summary", "columns", "rows"}
        assert isinstance(chart["y"], dict) and chart["y"]["title"]
        for dataset in chart["datasets"]:
            assert not {"yAxisID", "axis", "y"} & set(dataset)
            assert all(p["text"].split(" (")[0].endswith(chart["y"]["unit"]) for p in dataset["points"])
    by_id = {c["id"]: c for c in charts}
    assert [d["label"] for d in by_id["curve-1-ashworth"]["datasets"]] == ["Modified Ashworth (mean)"]
    assert [d["label"] for d in by_id["curve-1-penn"]["datasets"]] == ["Penn spasm frequency"]
    assert by_id["dose-history"]["y"]["unit"] == "mcg/day" and by_id["reservoir-volume"]["y"]["unit"] == "mL"


def test_a_record_entered_in_error_is_left_out_of_the_charts(clock, patient, named_nurse, neurologist):
    kept = observe(named_nurse, patient, T0 - timedelta(minutes=20), heart_rate=Decimal("71"))
    wrong = observe(named_nurse, patient, T0 - timedelta(minutes=10), heart_rate=Decimal("140"))
    screening.mark_observation_entered_in_error(actor=named_nurse, observation=wrong, reason="wrong patient")
    page = logged_in(neurologist).get(f"/patients/{patient.pk}/").content.decode()
    pulse = next(c for c in record_charts(page)["vitals"] if c["id"] == "vital-heart_rate")
    assert [Decimal(p["y"]) for p in pulse["datasets"][0]["points"]] == [kept.heart_rate]


def test_the_patient_page_costs_constant_queries_with_many_records_entered_by_many_nurses(
    implanted, clock, patient, make_staff, ward, neurologist, django_assert_max_num_queries
):
    def entered_by_a_new_nurse(day):
        clock.move_to(T0 + timedelta(days=day))
        someone = make_staff(Role.NURSE, ward)
        observe(someone, patient, T0 + timedelta(days=day) - timedelta(minutes=5))
        Refill.objects.create(pump=implanted, refilled_at=T0 + timedelta(days=day) - timedelta(minutes=30),
                              volume_removed_ml=Decimal("1"), volume_added_ml=Decimal("1"),
                              concentration_mcg_per_ml=Decimal("500"), lot=f"RF-{day}",
                              expected_residual_ml=Decimal("1"), refilled_by=someone)  # fmt: skip

    entered_by_a_new_nurse(1)
    client = logged_in(neurologist)
    with django_assert_max_num_queries(60) as few:
        client.get(f"/patients/{patient.pk}/")
    for day in range(2, 10):
        entered_by_a_new_nurse(day)
    client = logged_in(neurologist)  # the clock moved past the idle log-out
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert page.count('data-testid="observation-entered-by"') == 15
    assert page.count('data-testid="refill-entered-by"') == 9
