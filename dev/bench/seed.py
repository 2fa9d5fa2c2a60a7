"""Fill a bench database with patients, each implanted a year ago and carrying a year of history.

    python -m dev.bench.seed --patients N        (DATABASE_URL must name a bench database, see BENCH_PREFIX)

Each patient's screening and implant go through the services, so every audit event is a real one and the chain
verifies: registration, trial, baseline observation, test dose, a post-dose observation, the positive assessment, the
implant and its initial dose signed, programmed and read back (T9, T12): 10 clinical acts, one audit event each.

The year after the implant would take too long through the services (about 400 acts per patient), so its rows are
bulk-inserted, WITHOUT audit events (none is faked):
  - OBSERVATIONS_PER_YEAR observations (one a day), NEWS2 scored low;
  - DOSE_CHANGES_PER_YEAR titrations (one a month), signed, programmed and read back, each superseded by the next;
    they are history only: the program in force stays the initial dose put in force through the services;
  - ALERTS_PER_YEAR alerts (two a month), acknowledged and resolved, plus one open alert per patient.
Patients fill wards of WARD_SIZE beds (the ward board lists one ward), so N patients make ceil(N / WARD_SIZE)
wards. The bench's clinicians (bench_nurse, bench_nurse2, bench_neuro) act on every bench ward; the pages are read
as ward_nurse and ward_neuro of the first ward and as bench_admin. Running it again adds patients up to N.
"""

import argparse
import math
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlparse

BENCH_PREFIX = "wardflow_bench"
WARD_SIZE = 10
OBSERVATIONS_PER_YEAR = 365
DOSE_CHANGES_PER_YEAR = 12
ALERTS_PER_YEAR = 24
STAFF_PASSWORD = "bench-staff-password-0123456789"  # noqa: S105 - scratch bench databases only
STAFF = [("bench_nurse", "nurse"), ("bench_nurse2", "nurse"), ("bench_neuro", "neurologist"),
         ("bench_admin", "administrator")]  # fmt: skip
# The pages are read as these: a nurse and a neurologist of the first ward only (the others act on every ward).
READERS = [("ward_nurse", "nurse"), ("ward_neuro", "neurologist")]
VITALS = {
    "heart_rate": Decimal("72"),
    "systolic_bp": Decimal("122"),
    "diastolic_bp": Decimal("78"),
    "respiratory_rate": Decimal("14"),
    "spo2": Decimal("98"),
    "temperature_c": Decimal("36.8"),
    "sedation": "alert",
}


def _ward_code(number: int) -> str:
    return f"B{number:03d}"


def _staff():
    from django.test import override_settings

    from wardflow.staff.models import Role, User
    from wardflow.staff.services import add_staff, create_ward

    if not User.objects.filter(username=STAFF[0][0]).exists():
        create_ward(actor=None, code=_ward_code(1), name="Bench ward 1")
        # Bench accounts only: a cheap hash keeps the neurologist's signature (T9) from dominating the seeding time.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            for username, role in STAFF + READERS:
                wards = [] if role == Role.ADMINISTRATOR else [_ward_code(1)]
                add_staff(actor=None, username=username, role=Role(role), password=STAFF_PASSWORD, ward_codes=wards)
    users = {u.username: u for u in User.objects.filter(username__in=[name for name, _ in STAFF])}
    return users["bench_nurse"], users["bench_nurse2"], users["bench_neuro"]


def _ward(number: int):
    """The bench ward `number`, made when missing; the bench's clinicians act on every bench ward."""
    from wardflow.staff.models import User, Ward
    from wardflow.staff.services import create_ward

    ward = Ward.objects.filter(code=_ward_code(number)).first()
    if ward is None:
        ward = create_ward(actor=None, code=_ward_code(number), name=f"Bench ward {number}")
        for user in User.objects.filter(username__in=[name for name, role in STAFF if role != "administrator"]):
            user.wards.add(ward)
    return ward


def _screen_and_implant(index: int, ward, nurse, second_nurse, neurologist, implanted_at):
    """Through the services: the patient's audit trail is real."""
    import time_machine
    from django.test import override_settings
    from django.utils import timezone

    from screening import services as screening
    from titration import services as titration
    from wardflow.patients.services import register_patient
    from wardflow.protocol import Response

    given_at = implanted_at - timedelta(days=2)
    # The services date-check every act against the ward clock (S5, S6, T3), so each is entered at its own time.
    with time_machine.travel(given_at - timedelta(minutes=20), tick=True):
        patient = register_patient(actor=nurse, ward=ward, mrn=f"BENCH-{index:05d}", given_name="Bench",
                                   family_name=f"Patient {index:05d}", date_of_birth=date(1970 + index % 30, 1, 1),
                                   spasticity_origin="spinal")  # fmt: skip
        trial = screening.open_trial(actor=neurologist, patient=patient)
        screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                    observed_at=given_at - timedelta(minutes=30), ashworth_mean=Decimal("3"),
                                    penn_spasm_frequency=Decimal("3"), **VITALS)  # fmt: skip
    with time_machine.travel(given_at + timedelta(minutes=5), tick=True):
        dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=given_at, dose_mcg=Decimal("50"),
                                        volume_ml=Decimal("1"), lot="BENCH", route="lumbar_puncture",
                                        injection_seconds=90, resuscitation_ready=True)  # fmt: skip
    with time_machine.travel(given_at + timedelta(hours=7), tick=True):
        screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                    observed_at=given_at + timedelta(hours=4), ashworth_mean=Decimal("1.5"),
                                    penn_spasm_frequency=Decimal("1"), **VITALS)  # fmt: skip
        screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                                  duration_hours=Decimal("6"))  # fmt: skip
    with (
        time_machine.travel(implanted_at + timedelta(minutes=5), tick=True),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        pump = titration.implant_pump(actor=neurologist, patient=patient, screening_trial=trial,
                                      implanted_at=implanted_at, model="SynchroMed II",
                                      serial=f"BENCH-PUMP-{index:05d}", reservoir_ml=Decimal("40"),
                                      alarm_ml=Decimal("2"), concentration_mcg_per_ml=Decimal("500"),
                                      initial_volume_ml=Decimal("40"))  # fmt: skip
        change = titration.approve_dose_change(actor=neurologist, change=pump.dose_changes.get(),
                                               password=STAFF_PASSWORD)  # fmt: skip
        entry = {"daily_dose_mcg": change.new_daily_dose_mcg, "concentration_mcg_per_ml": Decimal("500")}
        programmed_at = timezone.now()
        change = titration.confirm_programming(actor=nurse, change=change, programmed_at=programmed_at, **entry)
        titration.read_back(actor=second_nurse, change=change, read_at=programmed_at, **entry)
    return patient, pump, change.new_daily_dose_mcg


def _year_of_history(patient, pump, initial_dose, nurse, second_nurse, neurologist, implanted_at, now):
    """Bulk rows (see the module docstring): no audit event is written for them."""
    from alerts.models import Alert
    from screening.models import Observation
    from titration.models import DoseChange

    observations = [
        Observation(
            patient=patient,
            observed_at=implanted_at + timedelta(days=day, hours=10),
            ashworth_mean=Decimal("1.5"),
            penn_spasm_frequency=Decimal("1"),
            news2_score=0,
            news2_risk="low",
            charted_by=nurse,
            **VITALS,
        )
        for day in range(1, OBSERVATIONS_PER_YEAR)
        if implanted_at + timedelta(days=day, hours=10) < now
    ]
    changes, dose = [], initial_dose
    for month in range(1, DOSE_CHANGES_PER_YEAR):
        at = implanted_at + timedelta(days=30 * month)
        new = (dose * Decimal("1.1")).quantize(Decimal("0.01"))
        changes.append(DoseChange(pump=pump, kind="titration", state=DoseChange.State.SUPERSEDED,
                                  new_daily_dose_mcg=new, previous_daily_dose_mcg=dose, percent_change=Decimal("10"),
                                  proposed_by=neurologist, proposed_at=at, earliest_at=at, approved_by=neurologist,
                                  approved_at=at, programmed_by=nurse, programmed_at=at + timedelta(hours=1),
                                  read_back_by=second_nurse, read_back_at=at + timedelta(hours=1),
                                  superseded_at=at + timedelta(days=30)))  # fmt: skip
        dose = new
    alerts = []
    for number in range(ALERTS_PER_YEAR + 1):
        raised = implanted_at + timedelta(days=15 * number + 1)
        still_open = number == ALERTS_PER_YEAR
        alerts.append(Alert(kind="observation_overdue", severity="warning", patient=patient, ward=patient.ward,
                            rule="A1", message="Observation overdue", raised_at=min(raised, now - timedelta(hours=1)),
                            due_at=min(raised, now - timedelta(hours=1)),
                            state=Alert.State.OPEN if still_open else Alert.State.RESOLVED, target_role="nurse",
                            subject_type="patients.patient", subject_id=str(patient.pk),
                            acknowledged_by=None if still_open else nurse,
                            acknowledged_at=None if still_open else raised + timedelta(minutes=20),
                            resolved_at=None if still_open else raised + timedelta(hours=1)))  # fmt: skip
    Observation.objects.bulk_create(observations, batch_size=2000)
    DoseChange.objects.bulk_create(changes)
    Alert.objects.bulk_create(alerts)
    return len(observations), len(changes), len(alerts)


def seed(patients: int, *, say=print) -> dict:
    """Add bench patients until there are `patients`; returns what was made."""
    from django.db import transaction
    from django.utils import timezone

    from wardflow.patients.models import Patient

    now = timezone.now()
    implanted_at = now - timedelta(days=OBSERVATIONS_PER_YEAR)
    with transaction.atomic():
        _staff()
    have = Patient.objects.filter(mrn__startswith="BENCH-").count()
    made = {"patients": 0, "observations": 0, "dose_changes": 0, "alerts": 0}
    started = time.perf_counter()
    for index in range(have, patients):
        with transaction.atomic():
            ward = _ward(index // WARD_SIZE + 1)
            nurse, second_nurse, neurologist = _staff()  # read again: their wards are cached per instance
            patient, pump, dose = _screen_and_implant(index, ward, nurse, second_nurse, neurologist, implanted_at)
            counts = _year_of_history(patient, pump, dose, nurse, second_nurse, neurologist, implanted_at, now)
        made["patients"] += 1
        for key, count in zip(("observations", "dose_changes", "alerts"), counts, strict=True):
            made[key] += count
        if made["patients"] % 50 == 0:
            say(f"  {index + 1:,} patients ({time.perf_counter() - started:.0f} s)")
    made["seconds"] = round(time.perf_counter() - started, 1)
    made["wards"] = math.ceil(patients / WARD_SIZE)
    return made


def require_bench_database() -> None:
    """Never fill the development or test database: only one named for the bench."""
    name = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
    if not name.startswith(BENCH_PREFIX):
        raise SystemExit(f"DATABASE_URL must name a database starting with {BENCH_PREFIX!r} (got {name!r})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, required=True)
    args = parser.parse_args()
    require_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    made = seed(args.patients)
    print(f"seeded {made}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
