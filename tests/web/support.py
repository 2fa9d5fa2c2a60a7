"""Shared by the web page tests: a browser-like client logged in as a member of staff."""

from datetime import timedelta
from decimal import Decimal

from django.test import Client

from screening import services as screening
from titration import services as titration
from wardflow.protocol import Response

PASSWORD = "correct horse battery staple"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def screened_and_implanted(patient, nurse, neurologist, second_nurse, now):
    """A full screening through the services: a baseline, test dose 1 given 6.5 h before `now` with observations at
    1, 2, 4, 5 and 6 h after it (Ashworth falling to 1+), assessed positive, then a pump implanted at `now` whose
    initial dose is signed, programmed and read back (T9, T12). Returns the pump."""
    trial = screening.open_trial(actor=neurologist, patient=patient)
    given_at = now - timedelta(hours=6, minutes=30)
    charted = [(-0.5, "3", "3", 76), (1, "2", "2", 72), (2, "1.5", "2", 70), (4, "1.5", "1", 68), (5, "1", "1", 66),
               (6, "1.5", "1", 70)]  # fmt: skip
    for i, (hours, ashworth, penn, pulse) in enumerate(charted):
        if i == 1:
            dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=given_at, dose_mcg=Decimal("50"),
                                            volume_ml=Decimal("1"), lot="LOT-1", route="lumbar_puncture",
                                            injection_seconds=90, resuscitation_ready=True)  # fmt: skip
        screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                    observed_at=given_at + timedelta(hours=hours),
                                    ashworth_mean=Decimal(ashworth), penn_spasm_frequency=Decimal(penn),
                                    heart_rate=Decimal(pulse), systolic_bp=Decimal(120 + i), diastolic_bp=Decimal(76),
                                    respiratory_rate=Decimal(14), spo2=Decimal("98"), temperature_c=Decimal("36.8"),
                                    sedation="alert")  # fmt: skip
    screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                              duration_hours=Decimal("6"))  # fmt: skip
    pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial, implanted_at=now,
                                  model="SynchroMed II", serial="PUMP-REC-1", reservoir_ml=Decimal("20"),
                                  alarm_ml=Decimal("2"), concentration_mcg_per_ml=Decimal("500"),
                                  initial_volume_ml=Decimal("20"))  # fmt: skip
    change = titration.approve_dose_change(actor=neurologist, change=pump.dose_changes.get(), password=PASSWORD)
    entry = {"daily_dose_mcg": change.new_daily_dose_mcg, "concentration_mcg_per_ml": Decimal("500")}
    # On a running clock the signature may fall in the minute after `now`: programmed once signed (T3).
    programmed_at = max(now, change.approved_at)
    change = titration.confirm_programming(actor=nurse, change=change, programmed_at=programmed_at, **entry)
    titration.read_back(actor=second_nurse, change=change, read_at=programmed_at, **entry)
    pump.refresh_from_db()
    return pump
