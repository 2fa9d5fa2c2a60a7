"""Shared by the FHIR API tests: validation of every answer against the library's R4 models, the API's calls, and
whole patient stories made through the real services."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from django.test import override_settings
from fhir.resources import get_fhir_model_class

from dev.bench.seed import STAFF_PASSWORD, _screen_and_implant
from screening import services as screening
from titration import services as titration

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
FHIR_JSON = "application/fhir+json"
VITALS = {
    "heart_rate": Decimal("72"),
    "systolic_bp": Decimal("124"),
    "diastolic_bp": Decimal("78"),
    "respiratory_rate": Decimal("14"),
    "spo2": Decimal("98"),
    "temperature_c": Decimal("36.8"),
    "sedation": "alert",
}


def assert_valid_fhir(body: dict):
    """Parse an answer with the fhir.resources R4 class its resourceType names (a Bundle's entries each with theirs)
    and return the model; an invalid resource fails the test with the library's error."""
    model = get_fhir_model_class(body["resourceType"]).parse_obj(body)
    for entry in body.get("entry", []) if body["resourceType"] == "Bundle" else []:
        assert_valid_fhir(entry["resource"])
    return model


def fhir_get(client, path: str, **params):
    """GET /fhir/R4/<path> asking for FHIR JSON."""
    return client.get(f"/fhir/R4/{path}", params, HTTP_ACCEPT=FHIR_JSON)


def entries(bundle: dict) -> list[dict]:
    return [entry["resource"] for entry in bundle.get("entry", [])]


def ids_of(bundle: dict, resource_type: str | None = None) -> set[str]:
    return {r["id"] for r in entries(bundle) if resource_type is None or r["resourceType"] == resource_type}


def chart(nurse, patient, observed_at, penn="3", **overrides):
    """An observation charted at `observed_at` (the clock is moved there: the services date-check it)."""
    with time_machine.travel(observed_at + timedelta(minutes=5), tick=False):
        return screening.chart_observation(
            actor=nurse,
            patient=patient,
            observed_at=observed_at,
            ashworth_mean=Decimal("2"),
            penn_spasm_frequency=Decimal(penn),
            **{**VITALS, **overrides},
        )


def signing_staff(*users):
    """The story's staff sign with the bench's password (dev/bench/seed.py makes the story)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        for user in users:
            user.set_password(STAFF_PASSWORD)
            user.save(update_fields=["password"])


def implanted_story(index: int, ward, nurse, second_nurse, neurologist, implanted_at: datetime):
    """Through the services: registration, screening (baseline, test dose, observation, positive response), implant,
    the initial dose signed, programmed and read back, then one refill a week later. Returns (patient, pump)."""
    patient, pump, _ = _screen_and_implant(index, ward, nurse, second_nurse, neurologist, implanted_at)
    refilled_at = implanted_at + timedelta(days=7)
    with time_machine.travel(refilled_at + timedelta(minutes=5), tick=False):
        titration.record_refill(
            actor=nurse,
            pump=pump,
            refilled_at=refilled_at,
            volume_removed_ml=Decimal("30"),
            volume_added_ml=Decimal("30"),
            concentration_mcg_per_ml=Decimal("500"),
            lot=f"LOT-{index}",
            septum_access_confirmed=True,
            aseptic_technique=True,
        )
    return patient, pump
