"""The demo ward for `make run`: on first run a ward, one account per role (two nurses, for the independent
read-back of T12) and three patients at different stages, made through the same services the ward uses (so the audit
trail is real); the credentials are printed every run.

    python -m dev.seed --credentials-file var/demo-credentials.txt
"""

import secrets
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from screening import services as screening
from titration import services as titration
from wardflow.patients.services import register_patient
from wardflow.protocol import Response
from wardflow.staff.models import Role, User
from wardflow.staff.services import add_staff, create_ward

DEMO_WARD = ("DEMO", "Demonstration ward")
DEMO_USERS = [
    ("nurse", Role.NURSE, "Nora", "Nurse"),
    ("nurse2", Role.NURSE, "Noor", "Nurse"),  # T12: reads back what the first nurse programs
    ("neurologist", Role.NEUROLOGIST, "Nils", "Neurologist"),
    ("admin", Role.ADMINISTRATOR, "Ada", "Administrator"),
]
VITALS = {
    "heart_rate": Decimal("74"),
    "systolic_bp": Decimal("122"),
    "diastolic_bp": Decimal("78"),
    "respiratory_rate": Decimal("14"),
    "spo2": Decimal("98"),
    "temperature_c": Decimal("36.7"),
    "sedation": "alert",
}


def _observe(nurse, patient, trial, at, ashworth, penn):
    scores = {"ashworth_mean": Decimal(ashworth), "penn_spasm_frequency": Decimal(penn)}
    screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=at, **scores, **VITALS)


def _dose(nurse, trial, at):
    return screening.give_test_dose(actor=nurse, trial=trial, administered_at=at, dose_mcg=Decimal("50"),
                                    volume_ml=Decimal("1"), lot="DEMO-LOT", route="lumbar_puncture",
                                    injection_seconds=90, resuscitation_ready=True)  # fmt: skip


def seed_demo_patients(ward, nurse, neurologist, neurologist_password: str, second_nurse) -> None:
    now = timezone.now()

    def patient(mrn, given, family, born, origin, **flags):
        return register_patient(actor=nurse, ward=ward, mrn=mrn, given_name=given, family_name=family,
                                date_of_birth=born, spasticity_origin=origin, **flags)  # fmt: skip

    # Awaiting test dose 1, baseline charted.
    first = patient(
        "DEMO-001", "Ada", "Lovelace", date(1972, 12, 10), "spinal", oral_antispasmodics="oral baclofen 20 mg tds"
    )
    trial = screening.open_trial(actor=neurologist, patient=first)
    _observe(nurse, first, trial, now - timedelta(minutes=20), "3", "3")

    # Observing test dose 1, given 5 h ago: a response to assess.
    second = patient("DEMO-002", "Alan", "Turing", date(1985, 6, 23), "cerebral", communication_difficulties=True)
    trial = screening.open_trial(actor=neurologist, patient=second)
    _observe(nurse, second, trial, now - timedelta(hours=5, minutes=30), "3", "3")
    _dose(nurse, trial, now - timedelta(hours=5))
    for hours, ashworth in [(4, "2.5"), (3, "2"), (2, "2"), (1, "1.5")]:  # 1 h to 4 h after the dose
        _observe(nurse, second, trial, now - timedelta(hours=hours), ashworth, "2")

    # Implanted after a positive test dose, initial dose signed and programmed.
    third = patient("DEMO-003", "Grace", "Hopper", date(1966, 12, 9), "spinal", sci_t6_or_above=True)
    trial = screening.open_trial(actor=neurologist, patient=third)
    _observe(nurse, third, trial, now - timedelta(hours=7), "3", "3")
    dose = _dose(nurse, trial, now - timedelta(hours=6, minutes=30))
    _observe(nurse, third, trial, now - timedelta(hours=2), "1.5", "1")
    screening.assess_response(actor=neurologist, test_dose=dose, response=Response.POSITIVE,
                              duration_hours=Decimal("6"))  # fmt: skip
    pump = titration.implant_pump(actor=neurologist, patient=third, screening_trial=trial, implanted_at=now,
                                  model="Demo pump 40", serial="DEMO-PUMP-1", reservoir_ml=Decimal("40"),
                                  alarm_ml=Decimal("2"), concentration_mcg_per_ml=Decimal("500"),
                                  initial_volume_ml=Decimal("40"))  # fmt: skip
    change = pump.dose_changes.get()
    titration.approve_dose_change(actor=neurologist, change=change, password=neurologist_password)
    # T12: the nurse programs and records it blind; a second nurse reads the pump back blind.
    programmed_at = timezone.now()
    entry = {"daily_dose_mcg": change.new_daily_dose_mcg, "concentration_mcg_per_ml": Decimal("500")}
    change = titration.confirm_programming(actor=nurse, change=change, programmed_at=programmed_at, **entry)
    titration.read_back(actor=second_nurse, change=change, read_at=programmed_at, **entry)


def seed_demo(credentials_file: Path) -> str:
    """Seed the demo ward once (when no account exists yet); return the credentials to print."""
    if not User.objects.exists():
        _seed(credentials_file)
    return credentials_file.read_text() if credentials_file.exists() else ""


@transaction.atomic
def _seed(credentials_file: Path) -> None:
    ward = create_ward(actor=None, code=DEMO_WARD[0], name=DEMO_WARD[1])
    lines, staff = [], {}
    for username, role, first, last in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        wards = [ward.code] if role != Role.ADMINISTRATOR else []
        staff[username] = (add_staff(actor=None, username=username, role=role, password=password, ward_codes=wards,
                                     first_name=first, last_name=last,
                                     email=f"{username}@demo.wardflow.invalid"),
                           password)  # fmt: skip
        lines.append(f"  {role.value:<14} username {username:<12} password {password}\n")
    (nurse, _), (neurologist, neurologist_password) = staff["nurse"], staff["neurologist"]
    seed_demo_patients(ward, nurse, neurologist, neurologist_password, second_nurse=staff["nurse2"][0])
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text("".join(lines))
    credentials_file.chmod(0o600)
