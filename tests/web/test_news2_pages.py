"""V1 and V2 on the ward pages: the latest NEWS2 on the board and the patient page, the flagged observation table and
chart, the charting form's oxygen toggle and policy-driven flags, and the pre-dose check on the test-dose form."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from screening import services as screening
from screening.models import Observation, TestDose
from tests.web.support import logged_in
from wardflow.audit.models import AuditEvent
from wardflow.clinical_time import ward_local
from wardflow.protocol import DEFAULT_POLICY

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
NORMAL = {"ashworth_mean": Decimal("3"), "penn_spasm_frequency": Decimal("3"), "heart_rate": Decimal("72"),
          "systolic_bp": Decimal("124"), "diastolic_bp": Decimal("78"), "respiratory_rate": Decimal("14"),
          "spo2": Decimal("98"), "temperature_c": Decimal("36.8"), "sedation": "alert"}  # fmt: skip
# NEWS2 11: RR 3 + SpO2 3 + pulse 1 + systolic BP 3 + temperature 1.
DANGEROUS = {**NORMAL, "respiratory_rate": Decimal("6"), "spo2": Decimal("84"), "heart_rate": Decimal("48"),
             "systolic_bp": Decimal("88"), "diastolic_bp": Decimal("50"), "temperature_c": Decimal("38.9")}  # fmt: skip


@pytest.fixture
def trial(clock, make_patient, ward, neurologist):
    return screening.open_trial(actor=neurologist, patient=make_patient(ward, "NEWS-1", family_name="Okafor"))


def chart(nurse, trial, at, values):
    return screening.chart_observation(actor=nurse, patient=trial.patient, trial=trial, observed_at=at, **values)


def local(moment) -> str:
    return ward_local(moment).strftime("%Y-%m-%dT%H:%M")


def dose_body(**extra):
    return {"administered_at": local(T0), "dose_mcg": "50", "volume_ml": "1", "lot": "L1", "route": "catheter",
            "injection_seconds": "90", "resuscitation_ready": "on", **extra}  # fmt: skip


def test_the_board_shows_each_patients_latest_news2_ignoring_one_entered_in_error(trial, nurse):
    chart(nurse, trial, T0 - timedelta(minutes=40), DANGEROUS)
    later = chart(nurse, trial, T0 - timedelta(minutes=20), NORMAL)
    Observation.objects.filter(pk=later.pk).update(entered_in_error_at=T0, entered_in_error_by=nurse)  # D4, directly
    row = logged_in(nurse).get("/ward/", HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'data-testid="news2"><span class="badge news2-high">11 · high</span>', row)


def test_a_patient_without_an_observation_has_no_news2_on_the_board(trial, nurse):
    assert b'data-testid="news2">\xe2\x80\x94<' in logged_in(nurse).get("/ward/", HTTP_HX_REQUEST="true").content


def test_the_patient_page_shows_the_latest_news2_flags_abnormal_values_and_charts_the_series(trial, nurse):
    chart(nurse, trial, T0 - timedelta(minutes=40), NORMAL)
    chart(nurse, trial, T0 - timedelta(minutes=20), DANGEROUS)
    page = logged_in(nurse).get(f"/patients/{trial.patient_id}/").content.decode()
    assert re.search(
        r'data-testid="latest-news2">Latest NEWS2 \(V1\): <span class="badge news2-high">11 · high risk', page
    )
    assert page.count('class="abnormal"') == 5  # RR, SpO2, pulse, systolic BP, temperature of the dangerous one
    assert '<td class="abnormal">6</td>' in page and '<td class="abnormal">88/50</td>' in page
    series = json.loads(re.search(r'id="news2-series-data" type="application/json">(.*?)</script>', page).group(1))
    assert [p["y"] for p in series["points"]] == [0, 11]
    assert (series["medium_from"], series["high_from"]) == (5, 7)
    assert 'id="news2-series"' in page


def test_the_charting_form_has_the_oxygen_toggle_and_the_policys_bands_for_its_script(trial, nurse):
    page = logged_in(nurse).get(f"/patients/{trial.patient_id}/observe/").content.decode()
    assert 'name="on_oxygen"' in page
    assert '<script src="/static/js/news2-form.js" defer></script>' in page
    policy = json.loads(re.search(r'id="news2-policy" type="application/json">(.*?)</script>', page).group(1))
    edges, points = DEFAULT_POLICY.news2_respiratory_rate
    assert policy["bands"]["respiratory_rate"] == {"edges": list(edges), "scores": list(points)}
    assert policy["bands"]["temperature_c"]["edges"] == ["35.0", "36.0", "38.0", "39.0"]
    assert (policy["medium_from"], policy["high_from"], policy["oxygen_score"]) == (5, 7, 2)
    assert "<script>" not in page  # CSP: no inline script


def test_an_observation_charted_on_oxygen_from_the_form_is_scored_v1(trial, nurse):
    body = {"observed_at": local(T0), "ashworth_mean": "3", "penn_spasm_frequency": "3", "heart_rate": "72",
            "systolic_bp": "124", "diastolic_bp": "78", "respiratory_rate": "14", "spo2": "98",
            "temperature_c": "36.8", "sedation": "alert", "on_oxygen": "on"}  # fmt: skip
    response = logged_in(nurse).post(f"/patients/{trial.patient_id}/observe/", body, follow=True)
    observation = Observation.objects.get()
    assert (observation.on_oxygen, observation.news2_score, observation.news2_risk) == (True, 2, "low")
    v1 = b'<a class="rule-link" href="/help/rules/#rule-V1">V1</a>'
    assert b"Observation charted: NEWS2 2 (low risk, " + v1 + b")." in response.content


def test_the_dose_form_shows_the_refused_pre_dose_check_and_a_nurse_no_override_field(trial, nurse):
    chart(nurse, trial, T0 - timedelta(minutes=30), DANGEROUS)
    page = logged_in(nurse).get(f"/trials/{trial.pk}/dose/").content.decode()
    assert 'data-testid="predose-result">refused<' in page
    assert 'data-testid="predose-news2">11 · high risk<' in page
    assert "respiratory rate 6/min" in page and "the baseline NEWS2 is 11 (high risk)" in page
    assert 'name="override_reason"' not in page


def test_the_dose_form_shows_a_passed_pre_dose_check(trial, nurse):
    chart(nurse, trial, T0 - timedelta(minutes=30), NORMAL)
    page = logged_in(nurse).get(f"/trials/{trial.pk}/dose/").content.decode()
    assert 'data-testid="predose-result">ok<' in page
    assert 'data-testid="predose-news2">0 · low risk<' in page


def test_a_refused_dose_from_the_form_writes_nothing_v2(trial, nurse):
    chart(nurse, trial, T0 - timedelta(minutes=30), DANGEROUS)
    events = AuditEvent.objects.count()
    response = logged_in(nurse).post(f"/trials/{trial.pk}/dose/", dose_body())
    assert response.status_code == 200
    assert "A neurologist may override with a written reason" in response.content.decode()
    assert not TestDose.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_neurologist_overrides_the_pre_dose_check_from_the_form_v2(trial, nurse, neurologist):
    chart(nurse, trial, T0 - timedelta(minutes=30), DANGEROUS)
    client = logged_in(neurologist)
    assert 'name="override_reason"' in client.get(f"/trials/{trial.pk}/dose/").content.decode()
    response = client.post(f"/trials/{trial.pk}/dose/", dose_body(override_reason="anaesthetist at the bedside"))
    assert response.status_code == 302
    assert TestDose.objects.get().predose_override_reason == "anaesthetist at the bedside"
    assert AuditEvent.objects.get(action="test_dose.given").reason == "anaesthetist at the bedside"
