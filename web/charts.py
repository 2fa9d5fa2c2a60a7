"""Chart series for the patient page: plain numbers for Chart.js (static/js/patient-charts.js), from its reads."""

from datetime import datetime, timedelta
from decimal import Decimal

from screening.selectors import baseline_and_window, in_force
from titration.selectors import estimated_volume
from wardflow import protocol
from wardflow.policy import current_policy

from .selectors import PatientPage

CURVE_HOURS = timedelta(hours=12)
NEWS2_HOURS = timedelta(hours=72)  # V1: how far back the page's NEWS2 chart reaches


def _hours(moment: datetime, since: datetime) -> float:
    return round((moment - since).total_seconds() / 3600, 2)


def _days(moment: datetime, since: datetime) -> float:
    return round((moment - since).total_seconds() / 86400, 2)


def response_curves(page: PatientPage) -> list[dict]:
    """Per test dose: Ashworth and Penn over hours since the dose, its baseline marked (S5-S7); records entered in
    error are left out (D4)."""
    curves, doses, observations = [], in_force(page.doses), in_force(page.observations)
    for i, dose in enumerate(doses):
        baseline, _ = baseline_and_window(dose, doses[:i], observations)
        after = [o for o in observations
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
    # T12: a change is charted from when it came in force; one waiting for its read-back is not shown at all.
    active = sorted((c for c in page.dose_changes if c.in_force_from), key=lambda c: c.in_force_from)
    steps = [{"x": _days(c.in_force_from, pump.implanted_at), "y": c.new_daily_dose_mcg} for c in active]
    if steps:
        steps.append({"x": _days(now, pump.implanted_at), "y": steps[-1]["y"]})
    volume = [
        {"x": _days(pump.filled_at, pump.implanted_at), "y": pump.volume_after_fill_ml},
        {"x": _days(now, pump.implanted_at), "y": estimated_volume(pump, now).quantize(Decimal("0.01"))},
    ]
    if pump.alarm_at:
        volume.append({"x": _days(pump.alarm_at, pump.implanted_at), "y": pump.alarm_ml})
    return {"dose": steps, "volume": volume, "alarm_ml": pump.alarm_ml,
            "refills": [_days(r.refilled_at, pump.implanted_at) for r in in_force(page.refills)]}  # fmt: skip


def news2_series(page: PatientPage, now: datetime) -> dict | None:
    """V1: NEWS2 over the last 72 h, in hours before now (entered in error left out, D4), with the policy's medium
    and high thresholds; None when nothing was scored."""
    policy = current_policy()
    points = [{"x": _hours(o.observed_at, now), "y": o.news2_score, "risk": o.news2_risk}
              for o in in_force(page.observations)
              if o.news2_score is not None and o.observed_at >= now - NEWS2_HOURS]  # fmt: skip
    if not points:
        return None
    return {"points": points, "medium_from": policy.news2_medium_from, "high_from": policy.news2_high_from}
