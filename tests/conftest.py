import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler, SQLUpdateCompiler
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from screening import services as screening
from screening.models import ScreeningTrial
from titration.models import Pump
from wardflow.audit.models import AuditEvent
from wardflow.patients.models import Patient
from wardflow.protocol import TrialState
from wardflow.staff.models import Role, SigningSession, User, Ward

_usernames = itertools.count(1)


def pytest_report_header(config):
    from tests.web.browser.conftest import CHROMIUM

    if CHROMIUM is None:
        return "browser tests: SKIPPED - no Chromium found (install Debian's chromium, or set CHROMIUM_PATH)"
    return f"browser tests: Chromium at {CHROMIUM}"


@pytest.fixture(autouse=True)
def audit_checkpoint_file(settings, tmp_path):
    """D3: every test's checkpoint file is its own, never a developer's var/ file from `make run`."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture
def ward(db):
    return Ward.objects.create(code="N3", name="Neuro 3")


@pytest.fixture
def other_ward(db):
    return Ward.objects.create(code="R1", name="Rehab 1")


@pytest.fixture
def make_staff(db):
    def make(role: Role, *wards: Ward, username: str | None = None) -> User:
        user = User.objects.create_user(
            username=username or f"{role.value}{next(_usernames)}", password="correct horse battery staple"
        )
        user.groups.add(Group.objects.get(name=role))
        user.wards.set(wards)
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def api_as():
    """An API client that authenticates like a tablet: with a token of the user's, in whose session the user has
    already signed once with user name and password (D5), so that a signature needs the password alone. Tests of
    the first signature get their token from POST /api/v1/auth/token/. The token does not expire: tests move the clock
    by days (expiry has its own tests)."""

    def client_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, key = AuthToken.objects.create(user=user, expiry=None)
            SigningSession.objects.create(token=token, identified_at=timezone.now())
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return client_for


@pytest.fixture
def nurse(make_staff, ward):
    return make_staff(Role.NURSE, ward, username="nina")


@pytest.fixture
def second_nurse(make_staff, ward):
    """Another nurse of the ward: the independent reader of a programmed pump (T12)."""
    return make_staff(Role.NURSE, ward, username="noor")


@pytest.fixture
def neurologist(make_staff, ward):
    return make_staff(Role.NEUROLOGIST, ward, username="dr_nolan")


@pytest.fixture
def second_neurologist(make_staff, ward):
    """Another neurologist of the ward: the independent signer of a change proposed with an override (T4)."""
    return make_staff(Role.NEUROLOGIST, ward, username="dr_okafor")


@pytest.fixture
def administrator(make_staff):
    return make_staff(Role.ADMINISTRATOR, username="ada")


@pytest.fixture
def audit_count():
    return lambda **filters: AuditEvent.objects.filter(**filters).count()


@pytest.fixture
def allow_audit_flush(transactional_db):
    """Transactional tests end with a TRUNCATE of every table, which the audit trigger refuses (D2). As the test
    database's superuser we switch triggers off for that cleanup only: the connection is closed right after it."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def make_patient(db):
    def make(ward: Ward, mrn: str, **fields) -> Patient:
        defaults = {
            "given_name": "Test",
            "family_name": f"Patient {mrn}",
            "date_of_birth": date(1980, 1, 1),
            "spasticity_origin": "spinal",
        }
        return Patient.objects.create(ward=ward, mrn=mrn, **{**defaults, **fields})

    return make


@pytest.fixture
def implant_directly(db):
    """Give a patient a pump after a candidate screening trial, written directly (neither screening nor titration is
    under test where this is used): implanted at `implanted_at`, a 20 mL reservoir of 500 mcg/mL, full, alarm at
    2 mL, screened 3 to 2 days before."""

    def implant(patient: Patient, neurologist: User, implanted_at, serial: str = "PUMP-1") -> Pump:
        trial = ScreeningTrial.objects.create(patient=patient, state=TrialState.CANDIDATE,
                                              first_dose_mcg=Decimal("50"), opened_by=neurologist,
                                              opened_at=implanted_at - timedelta(days=3),
                                              closed_at=implanted_at - timedelta(days=2))  # fmt: skip
        return Pump.objects.create(patient=patient, screening_trial=trial, implanted_at=implanted_at,
                                   model="SynchroMed II", serial=serial, reservoir_ml=Decimal("20"),
                                   alarm_ml=Decimal("2"), concentration_mcg_per_ml=Decimal("500"),
                                   filled_at=implanted_at, volume_after_fill_ml=Decimal("20"),
                                   initial_volume_ml=Decimal("20"),
                                   implanted_by=neurologist)  # fmt: skip

    return implant


@pytest.fixture
def chart_baseline(db):
    """V2: chart a normal baseline observation on a trial half an hour before a test dose given at `dose_at`, as
    every test dose needs (used where screening itself is not under test)."""

    def chart(nurse: User, trial: ScreeningTrial, dose_at):
        return screening.chart_observation(actor=nurse, patient=trial.patient, trial=trial,
                                           observed_at=dose_at - timedelta(minutes=30), ashworth_mean=Decimal("3"),
                                           penn_spasm_frequency=Decimal("3"), heart_rate=Decimal("72"),
                                           systolic_bp=Decimal("124"), diastolic_bp=Decimal("78"),
                                           respiratory_rate=Decimal("14"), spo2=Decimal("98"),
                                           temperature_c=Decimal("36.8"), sedation="alert")  # fmt: skip

    return chart


@pytest.fixture
def forbid_compiling(monkeypatch):
    """Call it to make any query the ORM would compile from then on fail the test: a read compiled once
    (`wardflow/compiled.py`) sends its SQL without compiling again. `writes=True`: inserts and updates too (an act
    whose writes are built once as well)."""

    def forbid(*, writes: bool = False):
        def compile_again(compiler, *args, **kwargs):
            raise AssertionError(f"compiled a {compiler.query.model.__name__} {type(compiler).__name__}")

        for compiler in (SQLCompiler, SQLInsertCompiler, SQLUpdateCompiler) if writes else (SQLCompiler,):
            monkeypatch.setattr(compiler, "as_sql", compile_again)

    return forbid
