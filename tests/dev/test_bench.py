"""The bench's data generator and its verdicts: the seeded ward is real where it is audited, and the table fails
whatever goal it missed or could not measure."""

import subprocess

import pytest

from alerts.models import Alert
from dev.bench import __main__ as bench
from dev.bench import writes
from dev.bench.seed import ALERTS_PER_YEAR, DOSE_CHANGES_PER_YEAR, WARD_SIZE, require_bench_database, seed
from screening.models import Observation, TestDose
from titration.models import DoseChange, Pump, Refill
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain
from wardflow.patients.models import Patient


@pytest.mark.django_db
def test_seed_implants_through_the_services_and_bulk_rows_leave_the_chain_intact():
    made = seed(WARD_SIZE + 1, say=lambda line: None)
    assert made["patients"] == WARD_SIZE + 1 and made["wards"] == 2
    assert Patient.objects.values("ward").distinct().count() == 2
    patient = Patient.objects.order_by("pk").first()
    pump = Pump.objects.get(patient=patient)
    assert pump.active_change.state == DoseChange.State.ACTIVE  # the program in force was put in force by the services
    assert pump.dose_changes.filter(state=DoseChange.State.SUPERSEDED).count() == DOSE_CHANGES_PER_YEAR - 1
    assert Observation.objects.filter(patient=patient).count() > 360
    assert Alert.objects.filter(patient=patient).count() == ALERTS_PER_YEAR + 1
    assert Alert.objects.filter(patient=patient, state=Alert.State.OPEN).count() == 1
    # no event was written for a bulk row: every observation event is one of the two screening observations
    assert AuditEvent.objects.filter(patient=patient, action="observation.charted").count() <= 2
    report = verify_chain(full=True)
    assert report.ok and report.events == AuditEvent.objects.count()


@pytest.mark.django_db
def test_seeding_again_adds_patients_up_to_the_number_asked():
    seed(2, say=lambda line: None)
    assert seed(3, say=lambda line: None)["patients"] == 1
    assert Patient.objects.count() == 3


def test_seed_refuses_a_database_not_named_for_the_bench(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflow")
    with pytest.raises(SystemExit, match="wardflow_bench"):
        require_bench_database()


def test_a_missed_or_unmeasured_goal_fails_the_bench_and_a_skipped_one_does_not(monkeypatch):
    rows = {"met": [bench.Row("scheduler", "0.1 ms", "< 1 ms", True)],
            "skipped": [bench.Row("write path", "skipped", "<= 1.3", None)],
            "missed": [bench.Row("audit list", "3.00x", "<= 2x", False)]}  # fmt: skip
    for part in ("write_path", "clinical_posts", "read_paths", "audit"):
        monkeypatch.setattr(bench, part, lambda quick: [])
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflow")
    monkeypatch.setattr("sys.argv", ["bench"])
    for verdict, expected in [("met", 0), ("skipped", 0), ("missed", 1)]:
        monkeypatch.setattr(bench, "scheduler", lambda verdict=verdict: rows[verdict])
        assert bench.main() == expected


def test_audit_rows_read_not_measured_when_the_audit_bench_gives_no_figures(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflow")
    failed = subprocess.CompletedProcess(args=[], returncode=1, stdout="")
    monkeypatch.setattr(bench, "_python", lambda args, env: failed)
    rows = bench.audit(quick=True)
    assert len(rows) == 4
    assert all(row.figure == "not measured" and row.met is False for row in rows)


@pytest.mark.django_db
def test_each_timed_clinical_post_is_a_real_act_on_a_real_record(settings):
    settings.PASSWORD_HASHERS = writes.CHEAP_HASH
    acts = writes.measure(samples=1)
    assert set(acts) == set(writes.ACTS) and acts["observation"]["ratio"] == 1
    assert all(figures["ms"] > 0 for figures in acts.values())
    # two samples (the warm-up one too): a dose given on each trial, and a signed change read back and refilled after
    assert TestDose.objects.filter(trial__patient__mrn__startswith="WRITE-").count() == 2
    assert DoseChange.objects.filter(kind="titration", state=DoseChange.State.ACTIVE).count() == 2
    assert Refill.objects.count() == 2
    assert verify_chain(full=True).ok


def test_clinical_post_rows_read_not_measured_when_their_bench_fails(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflow")
    failed = subprocess.CompletedProcess(args=[], returncode=1, stdout="")
    monkeypatch.setattr(bench, "_python", lambda args, env: failed)
    (row,) = bench.clinical_posts(quick=True)
    assert row.figure.startswith("not measured") and row.met is False
