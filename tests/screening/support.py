"""Shared by the screening tests: the clock's origin, and helpers that act through the HTTP API or the services."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from screening import services
from wardflow.audit.models import AuditEvent

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def open_trial(client, patient, **body):
    return client.post(f"/api/v1/patients/{patient.pk}/screening-trials/", body, format="json")


def dose_body(at: datetime, mcg: str, ml: str, **overrides):
    body = {
        "administered_at": at.isoformat(),
        "dose_mcg": mcg,
        "volume_ml": ml,
        "lot": "L2611-A",
        "route": "lumbar_puncture",
        "injection_seconds": 90,
        "resuscitation_ready": True,
    }
    return {**body, **overrides}


def give(client, trial_id, at, mcg="50", ml="1", **overrides):
    return client.post(
        f"/api/v1/screening-trials/{trial_id}/doses/", dose_body(at, mcg, ml, **overrides), format="json"
    )


def observation_body(at, ashworth="3", penn="3", signs=(), **overrides):
    body = {
        "observed_at": at.isoformat(),
        "ashworth_mean": ashworth,
        "penn_spasm_frequency": penn,
        "heart_rate": "72",
        "systolic_bp": "124",
        "diastolic_bp": "78",
        "respiratory_rate": "14",
        "spo2": "98",
        "temperature_c": "36.8",
        "sedation": "alert",
        "signs": list(signs),
    }
    return {**body, **overrides}


def chart(client, trial_id, at, ashworth="3", penn="3", signs=(), **overrides):
    body = observation_body(at, ashworth, penn, signs, **overrides)
    return client.post(f"/api/v1/screening-trials/{trial_id}/observations/", body, format="json")


def assess(client, dose_id, response, **body):
    return client.post(f"/api/v1/test-doses/{dose_id}/assessment/", {"response": response, **body}, format="json")


def trial_of(client, trial_id):
    return client.get(f"/api/v1/screening-trials/{trial_id}/").json()


def observe_dose(nurse_client, trial_id, given_at, ashworth_after="3", penn_after="3"):
    """Baseline 30 min before, then the 1-8 h schedule, the 4-8 h readings at the given scores."""
    for h in range(1, 9):
        after = h >= 4
        response = chart(nurse_client, trial_id, given_at + timedelta(hours=h),
                         ashworth_after if after else "3", penn_after if after else "3")  # fmt: skip
        assert response.status_code == 201, response.json()


def actions():
    return list(AuditEvent.objects.exclude(action__startswith="alert.").values_list("action", "rules"))


# --- the services, called directly ------------------------------------------------------------------------------


def dose_values(number: int = 1, **overrides) -> dict:
    """A test dose of the adult ladder (S1), prepared and injected as S4 asks."""
    mcg, ml = {1: ("50", "1"), 2: ("75", "1.5"), 3: ("100", "2")}[number]
    values = {
        "dose_mcg": Decimal(mcg),
        "volume_ml": Decimal(ml),
        "lot": "L2611-A",
        "route": "lumbar_puncture",
        "injection_seconds": 90,
        "resuscitation_ready": True,
    }
    return {**values, **overrides}


def vitals(ashworth="3", penn="3", **overrides) -> dict:
    """Observation values within the S5 bounds, as the service takes them."""
    values = {
        "ashworth_mean": Decimal(ashworth),
        "penn_spasm_frequency": Decimal(penn),
        "heart_rate": Decimal("72"),
        "systolic_bp": Decimal("124"),
        "diastolic_bp": Decimal("78"),
        "respiratory_rate": Decimal("14"),
        "spo2": Decimal("98"),
        "temperature_c": Decimal("36.8"),
        "sedation": "alert",
    }
    return {**values, **overrides}


def give_dose(actor, trial, at: datetime, number: int = 1, **overrides):
    return services.give_test_dose(actor=actor, trial=trial, administered_at=at, **dose_values(number, **overrides))


def chart_on(actor, patient, at: datetime, trial=None, signs=(), **overrides):
    return services.chart_observation(actor=actor, patient=patient, trial=trial, observed_at=at, signs=signs,
                                      **vitals(**overrides))  # fmt: skip
