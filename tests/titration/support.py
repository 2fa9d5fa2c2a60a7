"""Shared by the titration tests: the ward's clock, a candidate screening trial, and the pump's API calls."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from screening import services as screening
from wardflow.protocol import Response

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def candidate_trial(clock, neurologist, nurse, patient, dose_hours="6.5"):
    """A screening trial that ended positive on dose 1 (50 mcg), built through the screening services."""
    clock.move_to(at(days=-5))
    trial = screening.open_trial(actor=neurologist, patient=patient)
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=at(days=-5), dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    clock.move_to(at(days=-5, hours=5))
    vitals = {"heart_rate": Decimal("70"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
              "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at(days=-5, hours=4),
                                ashworth_mean=Decimal("1"), penn_spasm_frequency=Decimal("1"), sedation="alert",
                                **vitals)  # fmt: skip
    screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                              duration_hours=Decimal(dose_hours))  # fmt: skip
    clock.move_to(T0)
    trial.refresh_from_db()
    return trial


def implant_fields(trial, **overrides) -> dict:
    """What the implant form records, as the service takes it: a 20 mL reservoir of 500 mcg/mL, alarm at 2 mL."""
    fields = {
        "implanted_at": at(),
        "model": "SynchroMed II",
        "serial": f"SN-{trial.pk}",
        "reservoir_ml": Decimal("20"),
        "alarm_ml": Decimal("2"),
        "concentration_mcg_per_ml": Decimal("500"),
        "initial_volume_ml": Decimal("20"),
    }
    return {**fields, **overrides}


# --- the HTTP API -----------------------------------------------------------------------------------------------


def implant_body(trial, **overrides):
    body = {
        "implanted_at": at().isoformat(),
        "model": "SynchroMed II",
        "serial": f"SN-{trial.pk}",
        "reservoir_ml": "20",
        "alarm_ml": "2",
        "concentration_mcg_per_ml": "500",
        "initial_volume_ml": "20",
        "screening_trial": trial.pk,
    }
    return {**body, **overrides}


def implant(neuro, patient, trial, **overrides):
    return neuro.post(f"/api/v1/patients/{patient.pk}/pumps/", implant_body(trial, **overrides), format="json")


def approve(neuro, change_id, password=PASSWORD, **extra):
    return neuro.post(f"/api/v1/dose-changes/{change_id}/approve/", {"password": password, **extra}, format="json")


def programmed(nurse, change_id, when, dose, strength="500", **headers):
    body = {"programmed_at": when.isoformat(), "daily_dose_mcg": dose, "concentration_mcg_per_ml": strength}
    return nurse.post(f"/api/v1/dose-changes/{change_id}/programmed/", body, format="json", **headers)


def propose(client, pump_id, dose, kind="titration", **extra):
    body = {"kind": kind, "new_daily_dose_mcg": dose, "reason": "spasms persist", **extra}
    return client.post(f"/api/v1/pumps/{pump_id}/dose-changes/", body, format="json")


def pump_of(client, pump_id):
    return client.get(f"/api/v1/pumps/{pump_id}/").json()


def refill(client, pump_id, when, removed="2.5", added="20", strength="500", lot="RF-1"):
    body = {"refilled_at": when.isoformat(), "volume_removed_ml": removed, "volume_added_ml": added,
            "concentration_mcg_per_ml": strength, "lot": lot}  # fmt: skip
    return client.post(f"/api/v1/pumps/{pump_id}/refills/", body, format="json")
