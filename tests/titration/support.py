"""Shared by the titration tests: the ward's clock, a candidate screening trial, and the pump's API calls."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from screening import services as screening
from titration import services
from titration.models import DoseChange
from wardflow.protocol import Response
from wardflow.staff.models import Role, User

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def candidate_trial(clock, neurologist, nurse, patient, dose_hours="6.5"):
    """A screening trial that ended positive on dose 1 (50 mcg), built through the screening services."""
    clock.move_to(at(days=-5))
    trial = screening.open_trial(actor=neurologist, patient=patient)
    vitals = {"heart_rate": Decimal("70"), "systolic_bp": Decimal("120"), "diastolic_bp": Decimal("80"),
              "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8")}  # fmt: skip
    # V2: the baseline observation, half an hour before the dose.
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at(days=-5, hours=-0.5),
                                ashworth_mean=Decimal("3"), penn_spasm_frequency=Decimal("3"), sedation="alert",
                                **vitals)  # fmt: skip
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=at(days=-5), dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="L1", route="catheter", injection_seconds=90,
                                    resuscitation_ready=True)  # fmt: skip
    clock.move_to(at(days=-5, hours=5))
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at(days=-5, hours=4),
                                ashworth_mean=Decimal("1"), penn_spasm_frequency=Decimal("1"), sedation="alert",
                                **vitals)  # fmt: skip
    screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                              duration_hours=Decimal(dose_hours))  # fmt: skip
    clock.move_to(T0)
    trial.refresh_from_db()
    return trial


def ward_reader(change: DoseChange) -> User:
    """T12: a nurse of the change's ward who neither programmed nor signed it, to read the pump back (the ward's
    first such nurse, e.g. the `second_nurse` fixture; made here when the test has none)."""
    ward = change.pump.patient.ward
    reader = (
        User.objects.filter(groups__name=Role.NURSE, wards=ward, is_active=True)
        .exclude(pk__in=[change.programmed_by_id, change.approved_by_id])
        .order_by("pk")
        .first()
    )
    if reader is None:
        reader = User.objects.create_user(username=f"reader-{ward.code}", password=PASSWORD)
        reader.groups.add(Group.objects.get(name=Role.NURSE))
        reader.wards.add(ward)
        reader = User.objects.get(pk=reader.pk)
    return reader


def put_in_force(nurse, change: DoseChange, when: datetime, dose, strength="500", segments=None,
                 reader=None) -> DoseChange:  # fmt: skip
    """T9/T12 through the services: the nurse programs the signed change with a matching blind re-entry and, with
    the policy `independent_readback`, a second nurse of the ward reads the pump back at the same time."""
    entry = {"daily_dose_mcg": Decimal(dose), "concentration_mcg_per_ml": Decimal(strength), "segments": segments}
    change = services.confirm_programming(actor=nurse, change=change, programmed_at=when, **entry)
    if change.state != DoseChange.State.PROGRAMMED:
        return change
    return services.read_back(actor=reader or ward_reader(change), change=change, read_at=when, **entry)


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


def _blind_entry(dose, strength, segments) -> dict:
    entry = {"daily_dose_mcg": dose, "concentration_mcg_per_ml": strength}
    return entry if segments is None else {**entry, "segments": segments}


def record_programming(nurse, change_id, when, dose, strength="500", segments=None, **headers):
    """T12: the nurse's blind re-entry after programming the pump (`programmed/`), alone."""
    body = {"programmed_at": when.isoformat(), **_blind_entry(dose, strength, segments)}
    return nurse.post(f"/api/v1/dose-changes/{change_id}/programmed/", body, format="json", **headers)


def read_back(reader, change_id, when, dose, strength="500", segments=None, **headers):
    """T12: the second clinician's blind read-back of the programmed pump (`readback/`)."""
    body = {"read_at": when.isoformat(), **_blind_entry(dose, strength, segments)}
    return reader.post(f"/api/v1/dose-changes/{change_id}/readback/", body, format="json", **headers)


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user, expiry=None)[1]}")
    return client


def programmed(nurse, change_id, when, dose, strength="500", segments=None, reader=None, **headers):
    """T9/T12: the nurse programs the pump and records it with a blind re-entry; with the policy
    `independent_readback` a second nurse of the ward (`reader`, an API client, else `ward_reader`'s) then reads it
    back blind at the same time. Returns the answer that decided: a refused programming's, else the read-back's."""
    response = record_programming(nurse, change_id, when, dose, strength, segments, **headers)
    if response.status_code != 200 or response.json()["state"] != DoseChange.State.PROGRAMMED:
        return response
    reader = reader or token_client(ward_reader(DoseChange.objects.get(pk=change_id)))
    return read_back(reader, change_id, when, dose, strength, segments)


def propose(client, pump_id, dose, kind="titration", **extra):
    body = {"kind": kind, "new_daily_dose_mcg": dose, "reason": "spasms persist", **extra}
    return client.post(f"/api/v1/pumps/{pump_id}/dose-changes/", body, format="json")


def pump_of(client, pump_id):
    return client.get(f"/api/v1/pumps/{pump_id}/").json()


def refill(client, pump_id, when, removed="2.5", added="20", strength="500", lot="RF-1", **extra):
    """R6: confirmed through the septum with aseptic technique unless `extra` says otherwise."""
    body = {"refilled_at": when.isoformat(), "volume_removed_ml": removed, "volume_added_ml": added,
            "concentration_mcg_per_ml": strength, "lot": lot, "septum_access_confirmed": True,
            "aseptic_technique": True, **extra}  # fmt: skip
    return client.post(f"/api/v1/pumps/{pump_id}/refills/", body, format="json")
