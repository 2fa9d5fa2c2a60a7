"""One patient's whole story through the real services (screening, implant, titration with a signed, programmed and
read-back change, two refills): Patient/{id}/$everything holds every record of it, counted against what the REST
API shows of the same patient, and every entry validates against the FHIR R4 models."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings

from dev.bench.seed import STAFF_PASSWORD
from screening.models import Observation
from tests.interop.support import T0, assert_valid_fhir, chart, entries, fhir_get, implanted_story, signing_staff
from titration import services as titration
from titration.models import Pump

pytestmark = pytest.mark.django_db

IMPLANTED_AT = T0 - timedelta(days=20)
NIGHT = [{"start": "00:00", "percent": "100"}, {"start": "22:00", "percent": "120"}]


@pytest.fixture
def story(clock, ward, nurse, second_nurse, neurologist):
    """Screening, implant, the initial dose signed, programmed and read back, and a refill a week later (the shared
    story); then a titration step with a night segment, signed, programmed and read back (T3, T7, T9, T12), a
    second refill, and an observation charted after the implant."""
    signing_staff(nurse, second_nurse, neurologist)
    patient, pump = implanted_story(1, ward, nurse, second_nurse, neurologist, IMPLANTED_AT)
    stepped_at = IMPLANTED_AT + timedelta(days=8)
    entry = {"daily_dose_mcg": None, "concentration_mcg_per_ml": Decimal("500"), "segments": NIGHT}
    with (
        time_machine.travel(stepped_at, tick=False),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        active = Pump.objects.get(pk=pump.pk).active_change.new_daily_dose_mcg
        dose = (active * Decimal("1.2")).quantize(Decimal("0.01"))
        entry["daily_dose_mcg"] = dose
        change = titration.propose_dose_change(actor=neurologist, pump=pump, kind="titration",
                                               new_daily_dose_mcg=dose, reason="spasms persist at night",
                                               segments=NIGHT)  # fmt: skip
        change = titration.approve_dose_change(actor=neurologist, change=change, password=STAFF_PASSWORD)
        change = titration.confirm_programming(actor=nurse, change=change, programmed_at=stepped_at, **entry)
        titration.read_back(actor=second_nurse, change=change, read_at=stepped_at, **entry)
    refilled_at = IMPLANTED_AT + timedelta(days=14)
    with time_machine.travel(refilled_at + timedelta(minutes=5), tick=False):
        titration.record_refill(actor=nurse, pump=Pump.objects.get(pk=pump.pk), refilled_at=refilled_at,
                                volume_removed_ml=Decimal("25"), volume_added_ml=Decimal("35"),
                                concentration_mcg_per_ml=Decimal("500"), lot="LOT-2", septum_access_confirmed=True,
                                aseptic_technique=True)  # fmt: skip
    chart(nurse, patient, IMPLANTED_AT + timedelta(days=15))
    return patient, Pump.objects.get(pk=pump.pk)


def rest_view(client, patient) -> dict[str, int]:
    """How many records of each kind the REST API shows of the patient: their trials' test doses, their pump in place
    (the registry) with its dose changes and refills, and their audit events."""
    trials = [t for t in client.get("/api/v1/screening-trials/").json()["results"] if t["patient"] == patient.pk]
    registry = [p for p in client.get("/api/v1/pumps/").json()["results"] if p["patient"] == patient.pk]
    pumps = [client.get(f"/api/v1/pumps/{p['id']}/").json() for p in registry]
    changes = [c for p in pumps for c in p["dose_changes"]]
    refills = [r for p in pumps for r in p["refills"]]
    audit = client.get("/api/v1/audit-events/", {"patient": patient.pk}).json()
    return {
        "test_doses": sum(len(t["doses"]) for t in trials),
        "pumps": len(pumps),
        "signed": sum(c["approved_at"] is not None for c in changes),
        "read_back": sum(c["read_back_at"] is not None for c in changes),
        "in_force": sum(c["state"] in ("active", "superseded") for c in changes),
        "refills": len(refills),
        "audit_events": audit["count"],
    }


def test_everything_holds_every_record_of_the_patients_story(story, api_as, neurologist):
    patient, _ = story
    client = api_as(neurologist)
    rest = rest_view(client, patient)
    assert rest | {"audit_events": 0} == {"test_doses": 1, "pumps": 1, "signed": 2, "read_back": 2,
                                          "in_force": 2, "refills": 2, "audit_events": 0}  # fmt: skip
    # The REST API lists no observations; the FHIR API shows each charted one, with its NEWS2 apart.
    observations = Observation.objects.filter(patient=patient)
    with_news2 = observations.filter(news2_score__isnull=False).count()

    response = fhir_get(client, f"Patient/patient-{patient.pk}/$everything")

    assert response.status_code == 200
    bundle = response.json()
    assert_valid_fhir(bundle)
    resources = entries(bundle)
    assert Counter(r["resourceType"] for r in resources) == {
        "Patient": 1,
        "Device": rest["pumps"],
        "DeviceMetric": rest["pumps"],
        "Observation": observations.count() + with_news2,
        "MedicationRequest": rest["signed"],
        "Provenance": rest["signed"] + rest["read_back"],
        "MedicationAdministration": rest["test_doses"] + rest["in_force"],
        # The implant and each refill (the pump is in place: no explant).
        "Procedure": rest["pumps"] + rest["refills"],
        "AuditEvent": rest["audit_events"],
    }
    assert {r["subject"]["reference"] for r in resources if "subject" in r} == {f"Patient/patient-{patient.pk}"}


def test_the_story_shows_the_titration_as_its_timed_order_and_program_periods(story, api_as, neurologist):
    patient, pump = story
    resources = entries(fhir_get(api_as(neurologist), f"Patient/patient-{patient.pk}/$everything").json())
    current = next(r for r in resources if r["id"] == f"change-{pump.active_change_id}")
    assert [d["timing"]["repeat"]["timeOfDay"] for d in current["dosageInstruction"]] == [["00:00:00"], ["22:00:00"]]
    periods = sorted(
        (r for r in resources if r["id"].startswith("program-")), key=lambda r: r["effectivePeriod"]["start"]
    )
    assert [p["status"] for p in periods] == ["completed", "in-progress"]
    assert periods[0]["effectivePeriod"]["end"] == periods[1]["effectivePeriod"]["start"]
    lots = {e["valueString"] for r in resources if r["id"].startswith("refill-") for e in r["extension"]
            if e["url"].endswith("refill-lot")}  # fmt: skip
    assert lots == {"LOT-1", "LOT-2"}
