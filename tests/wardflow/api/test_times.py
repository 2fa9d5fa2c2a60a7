"""Dates, times and input (2026.2): the API refuses a time without a UTC offset instead of taking it as UTC."""

from datetime import UTC, datetime

import pytest
import time_machine

from screening import services as screening
from screening.models import Observation, TestDose
from wardflow.audit.models import AuditEvent

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
NAIVE = "2026-11-27T10:00:00"
OBSERVATION = {"ashworth_mean": "3", "penn_spasm_frequency": "2", "heart_rate": "72", "systolic_bp": "120",
               "diastolic_bp": "80", "respiratory_rate": "14", "spo2": "97", "temperature_c": "36.5",
               "sedation": "alert"}  # fmt: skip
DOSE = {"dose_mcg": "50", "volume_ml": "1", "lot": "L1", "route": "lumbar_puncture", "injection_seconds": 90,
        "resuscitation_ready": True}  # fmt: skip

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial(make_patient, ward, neurologist):
    with time_machine.travel(NOW, tick=False):
        return screening.open_trial(actor=neurologist, patient=make_patient(ward, "T-1"))


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("path", "field", "body", "model"),
    [
        ("observations", "observed_at", OBSERVATION, Observation),
        ("doses", "administered_at", DOSE, TestDose),
    ],
)
def test_a_time_without_a_utc_offset_is_refused_naming_its_field(api_as, nurse, trial, path, field, body, model):
    events = AuditEvent.objects.count()
    response = api_as(nurse).post(f"/api/v1/screening-trials/{trial.pk}/{path}/", {**body, field: NAIVE}, format="json")
    assert response.status_code == 400
    assert "UTC offset" in response.json()[field][0]
    assert not model.objects.exists()
    assert AuditEvent.objects.count() == events
