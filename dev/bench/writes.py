"""Every clinical POST beside the observation POST: the test dose, the proposal, the signed approval, the programming,
the independent read-back and the refill, each timed through the HTTP API as the real role.

    python -m dev.bench.writes [--samples 31]      (DATABASE_URL must name a bench database)

The observation POST is the one ../shared/bench/ward/run.sh measures against its floor (a patient charted outside any
trial); the others are reported as a ratio to it. Each sample gets its own patients, brought through the services to
the state the act needs (a trial with its baseline observation, a pump with its initial dose in force), so that every
act is a real one on a real record; the acts are then sent through Django's test client, one after the other, on the
ward clock each needs (time-machine), and the median of the samples is kept (a first, warm-up sample is not counted).
Bench accounts sign with a cheap password hash, as dev.bench.seed does: PBKDF2's deliberate cost (D5) would otherwise
be all the approval's time. The database is recreated at the start and dropped at the end; its audit chain is
re-hashed in full before (D2). Prints one JSON line.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

from dev.bench.seed import STAFF_PASSWORD, VITALS, _screen_and_implant, _staff, require_bench_database

CHEAP_HASH = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACTS = ("observation", "test dose", "proposal", "approval", "programming", "read-back", "refill")


def _observation_body(at) -> dict:
    return {"observed_at": at.isoformat(), "ashworth_mean": "2", "penn_spasm_frequency": "1",
            **{name: str(value) for name, value in VITALS.items()}, "signs": []}  # fmt: skip


def _clients():
    from django.test import Client
    from knox.models import AuthToken

    from wardflow.staff.models import User

    clients = {}
    for username in ("bench_nurse", "bench_nurse2", "bench_neuro"):
        _, key = AuthToken.objects.create(user=User.objects.get(username=username), expiry=None)
        clients[username] = Client(HTTP_AUTHORIZATION=f"Token {key}")
    return clients["bench_nurse"], clients["bench_nurse2"], clients["bench_neuro"]


def _timed_post(client, path: str, body: dict, expected: int) -> float:
    started = time.perf_counter()
    response = client.post(path, body, content_type="application/json")
    elapsed = time.perf_counter() - started
    if response.status_code != expected:
        raise SystemExit(f"POST {path} answered {response.status_code}: {response.content[:400]!r}")
    return elapsed


def _screening_patient(index: int, ward, nurse, neurologist, given_at):
    """Through the services: a trial awaiting its first dose, its baseline charted half an hour before (V2)."""
    import time_machine

    from screening import services as screening
    from wardflow.patients.services import register_patient

    with time_machine.travel(given_at - timedelta(minutes=20), tick=False):
        patient = register_patient(actor=nurse, ward=ward, mrn=f"WRITE-{index:05d}", given_name="Bench",
                                   family_name=f"Writer {index:05d}", date_of_birth=date(1980, 1, 1),
                                   spasticity_origin="spinal")  # fmt: skip
        trial = screening.open_trial(actor=neurologist, patient=patient)
        screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                    observed_at=given_at - timedelta(minutes=30), ashworth_mean=Decimal("3"),
                                    penn_spasm_frequency=Decimal("3"), **VITALS)  # fmt: skip
    return patient, trial


def measure(samples: int) -> dict:
    import time_machine
    from django.db import transaction
    from django.utils import timezone

    from dev.bench.seed import _ward
    from titration.models import DoseChange

    with transaction.atomic():
        _staff()
        ward = _ward(1)
    nurse_user, second_nurse_user, neuro_user = _staff()
    nurse, second_nurse, neuro = _clients()
    base = timezone.now().replace(microsecond=0) - timedelta(days=30)
    times = {act: [] for act in ACTS}
    for sample in range(samples + 1):
        at = base + timedelta(hours=sample)  # each sample on its own hour: the acts never meet another's limits
        patient, trial = _screening_patient(sample, ward, nurse_user, neuro_user, at)
        with time_machine.travel(at + timedelta(minutes=1), tick=False):
            times["observation"].append(
                _timed_post(nurse, f"/api/v1/patients/{patient.pk}/observations/", _observation_body(at), 201)
            )
            dose = {"administered_at": at.isoformat(), "dose_mcg": "50", "volume_ml": "1", "lot": "BENCH",
                    "route": "lumbar_puncture", "injection_seconds": 90, "resuscitation_ready": True}  # fmt: skip
            times["test dose"].append(_timed_post(nurse, f"/api/v1/screening-trials/{trial.pk}/doses/", dose, 201))
        with transaction.atomic():
            _, pump, initial = _screen_and_implant(10_000 + sample, ward, nurse_user, second_nurse_user, neuro_user,
                                                   implanted_at=at - timedelta(days=3))  # fmt: skip
        new_dose = str((initial * Decimal("1.1")).quantize(Decimal("0.1")))
        with time_machine.travel(at + timedelta(hours=2), tick=False):
            body = {"kind": "titration", "new_daily_dose_mcg": new_dose, "reason": "spasms persist"}
            times["proposal"].append(_timed_post(neuro, f"/api/v1/pumps/{pump.pk}/dose-changes/", body, 201))
            change = DoseChange.objects.filter(pump=pump).order_by("-pk").first()
            # D5: a signature re-enters the signer's user name and password.
            signature = {"username": "bench_neuro", "password": STAFF_PASSWORD}
            times["approval"].append(_timed_post(neuro, f"/api/v1/dose-changes/{change.pk}/approve/", signature, 200))
        programmed_at = at + timedelta(days=1)
        entry = {"daily_dose_mcg": new_dose, "concentration_mcg_per_ml": "500"}
        with time_machine.travel(programmed_at, tick=False):
            programming = {"programmed_at": programmed_at.isoformat(), **entry}
            path = f"/api/v1/dose-changes/{change.pk}/programmed/"
            times["programming"].append(_timed_post(nurse, path, programming, 200))
            reading = {"read_at": programmed_at.isoformat(), **entry}
            path = f"/api/v1/dose-changes/{change.pk}/readback/"
            times["read-back"].append(_timed_post(second_nurse, path, reading, 200))
        refilled_at = at + timedelta(days=8)
        with time_machine.travel(refilled_at, tick=False):
            body = {"refilled_at": refilled_at.isoformat(), "volume_removed_ml": _residual(pump, refilled_at),
                    "volume_added_ml": "30", "concentration_mcg_per_ml": "500", "lot": "BENCH-RF",
                    "septum_access_confirmed": True, "aseptic_technique": True}  # fmt: skip
            times["refill"].append(_timed_post(nurse, f"/api/v1/pumps/{pump.pk}/refills/", body, 201))
        print(f"  sample {sample}/{samples}", file=sys.stderr, flush=True)
    # Sample 0 warms each view up (first imports, connections, caches) and is not counted.
    medians = {act: statistics.median(values[1:]) * 1000 for act, values in times.items()}
    return {act: {"ms": ms, "ratio": ms / medians["observation"]} for act, ms in medians.items()}


def _residual(pump, when) -> str:
    """What the pump should hold at `when` (R2), so that the refill is an ordinary one with no R5 discrepancy."""
    from titration.selectors import estimated_volume

    pump.refresh_from_db()
    return str(estimated_volume(pump, when).quantize(Decimal("0.1")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=31)
    args = parser.parse_args()
    require_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from dev.bench.reads import _drop, _recreate, _use
    from wardflow.audit.selectors import verify_chain

    call_command("collectstatic", interactive=False, verbosity=0)
    base = connection.settings_dict["NAME"]
    database = f"{base}_writes"
    _use(database)
    _recreate(database)
    call_command("migrate", verbosity=0)
    with override_settings(PASSWORD_HASHERS=CHEAP_HASH):
        acts = measure(args.samples)
    report = verify_chain(full=True)
    _use(base)
    _drop(database)
    print(json.dumps({"acts": acts, "chain": {"ok": report.ok, "events": report.events, "problem": report.problem}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
