"""Shared by the document tests: a patient's story through the real services, and a printed PDF read as text."""

import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from screening import selectors as screening_reads
from screening import services as screening
from tests.web.support import PASSWORD, screened_and_implanted
from titration import services as titration
from wardflow import protocol
from wardflow.protocol import DoseChangeKind, Phase, Response

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"
EVENING_BOOST = [{"start": "00:00", "percent": "100"}, {"start": "20:00", "percent": "150"}]


def refilled_with_new_program(clock, patient, nurse, neurologist, second_nurse, implanted_at, *, removed="13.5"):
    """Screened and implanted at `implanted_at` (100 mcg/day at 500 mcg/mL, read back, T1/T12), moved to maintenance,
    refilled 20 days later (16 mL expected in the reservoir), and adjusted at that visit to 120 mcg/day with an
    evening segment at 150 %, signed, programmed and read back an hour after the refill (T5, T7, T9, T12)."""
    pump = screened_and_implanted(patient, nurse, neurologist, second_nurse, implanted_at)
    titration.set_phase(actor=neurologist, pump=pump, phase=Phase.MAINTENANCE, reason="Stable on 100 mcg/day")
    refilled_at = implanted_at + timedelta(days=20)
    clock.move_to(refilled_at)
    refill = titration.record_refill(actor=nurse, pump=pump, refilled_at=refilled_at,
                                     volume_removed_ml=Decimal(removed), volume_added_ml=Decimal("20"),
                                     concentration_mcg_per_ml=Decimal("500"), lot="RF-2026-77",
                                     septum_access_confirmed=True, aseptic_technique=True)  # fmt: skip
    change = titration.propose_dose_change(actor=nurse, pump=pump, kind=DoseChangeKind.REFILL_ADJUSTMENT,
                                           new_daily_dose_mcg=Decimal("120"), segments=EVENING_BOOST,
                                           reason="Evening spasms", refill=refill)  # fmt: skip
    change = titration.approve_dose_change(actor=neurologist, change=change, password=PASSWORD)
    programmed_at = refilled_at + timedelta(hours=1)
    clock.move_to(programmed_at)
    entry = {"daily_dose_mcg": Decimal("120"), "concentration_mcg_per_ml": Decimal("500"), "segments": EVENING_BOOST}
    change = titration.confirm_programming(actor=nurse, change=change, programmed_at=programmed_at, **entry)
    titration.read_back(actor=second_nurse, change=change, read_at=programmed_at, **entry)
    pump.refresh_from_db()
    refill.refresh_from_db()
    return pump, refill


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The PDF's text as laid out (poppler's pdftotext -layout), with runs of spaces made one."""
    source = tmp_path / "document.pdf"
    source.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True)
    return " ".join(text.stdout.split())


def rasterise_first_page(content: bytes, name: str) -> Path:
    """Page 1 as a PNG in test-artifacts/documents/, beside the whole PDF, to look at (poppler's pdftoppm)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(ARTIFACTS / name)], check=True)  # fmt: skip
    return ARTIFACTS / f"{name}.png"


def reader_with_wards(user):
    """The user as a request knows them: role and wards read once with the login, not by each document's reads."""
    assert user.role and user.ward_ids
    return user


def screened(clock, patient, nurse, neurologist, responses: tuple[str, ...]):
    """A screening trial through the services: one test dose per response, 25 h apart (S3), each after a baseline
    (V2) and observed 1, 4 and 6 h after it (S5), then assessed with that response (S9)."""
    vitals = {"heart_rate": Decimal("72"), "systolic_bp": Decimal("122"), "diastolic_bp": Decimal("78"),
              "respiratory_rate": Decimal("14"), "spo2": Decimal("98"), "temperature_c": Decimal("36.8"),
              "sedation": "alert"}  # fmt: skip
    trial = screening.open_trial(actor=neurologist, patient=patient)
    start = timezone.now()
    for i, response in enumerate(responses):
        given_at = start + timedelta(hours=25 * i + 1)
        clock.move_to(given_at)
        screening.chart_observation(actor=nurse, patient=patient, trial=trial, observed_at=given_at - timedelta(
            minutes=30), ashworth_mean=Decimal("3"), penn_spasm_frequency=Decimal("3"), **vitals)  # fmt: skip
        _, mcg, _ = screening_reads.next_dose(trial)
        dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=given_at, dose_mcg=mcg,
                                        volume_ml=protocol.ladder_volume_ml(mcg), lot=f"TD-{i + 1}",
                                        route="lumbar_puncture", injection_seconds=90,
                                        resuscitation_ready=True)  # fmt: skip
        relief = "1" if response == Response.POSITIVE else "3"
        for hours in (1, 4, 6):
            clock.move_to(given_at + timedelta(hours=hours))
            screening.chart_observation(actor=nurse, patient=patient, trial=trial,
                                        observed_at=given_at + timedelta(hours=hours), ashworth_mean=Decimal(relief),
                                        penn_spasm_frequency=Decimal(relief), **vitals)  # fmt: skip
        positive = response == Response.POSITIVE
        screening.assess_response(actor=neurologist, test_dose=dose, response=response,
                                  duration_hours=Decimal("6") if positive else None)  # fmt: skip
        trial.refresh_from_db()
    return trial
