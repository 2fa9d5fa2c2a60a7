"""Chart series for the patient page: plain numbers for Chart.js (static/js/patient-charts.js), from its reads."""

from datetime import datetime, timedelta
from decimal import Decimal

from screening.selectors import baseline_and_window
from titration.selectors import estimated_volume
from wardflow import protocol

from .selectors import PatientPage

CURVE_HOURS = timedelta(hours=12)


def _hours(moment: datetime, since: datetime) -> float:
    return round((moment - since).total_seconds() / 3600, 2)


def _days(moment: datetime, since: datetime) -> float:
    return round((moment - since).total_seconds() / 86400, 2)


def response_curves(page: PatientPage) -> list[dict]:
    """Per test dose: Ashworth and Penn over hours since the dose, its baseline marked (S5-S7)."""
    curves = []
    for i, dose in enumerate(page.doses):
        baseline, _ = baseline_and_window(dose, page.doses[:i], page.observations)
        after = [o for o in page.observations
                 if dose.administered_at <= o.observed_at <= dose.administered_at + CURVE_HOURS]  # fmt: skip
        points = ([baseline] if baseline else []) + after
        curves.append({
            "id": f"curve-{dose.number}",
            "title": f"Test dose {dose.number}: {dose.dose_mcg} mcg",
            "window": list(protocol.ASSESSMENT_WINDOW_HOURS),
            "points": [{"h": _hours(o.observed_at, dose.administered_at), "ashworth": o.ashworth_mean,
                        "penn": o.penn_spasm_frequency, "baseline": o is baseline} for o in points],
        })  # fmt: skip
    return curves


def dose_history(page: PatientPage, now: datetime) -> dict | None:
    """Daily dose over days since implant, refills marked, and the projected reservoir volume to the alarm line."""
    pump = page.pump
    if pump is None:
        return None
    active = sorted((c for c in page.dose_changes if c.programmed_at), key=lambda c: c.programmed_at)
    steps = [{"x": _days(c.programmed_at, pump.implanted_at), "y": c.new_daily_dose_mcg} for c in active]
    if steps:
        steps.append({"x": _days(now, pump.implanted_at), "y": steps[-1]["y"]})
    volume = [
        {"x": _days(pump.filled_at, pump.implanted_at), "y": pump.volume_after_fill_ml},
        {"x": _days(now, pump.implanted_at), "y": estimated_volume(pump, now).quantize(Decimal("0.01"))},
    ]
    if pump.alarm_at:
        volume.append({"x": _days(pump.alarm_at, pump.implanted_at), "y": pump.alarm_ml})
    return {"dose": steps, "volume": volume, "alarm_ml": pump.alarm_ml,
            "refills": [_days(r.refilled_at, pump.implanted_at) for r in pump.refills.all()]}  # fmt: skip
