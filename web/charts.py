"""Chart series for the patient page: plain numbers for Chart.js (static/js/patient-charts.js), from its reads.

Each record chart is one dict that static/js/patient-charts.js draws as it stands: one x axis, ONE y axis with its
unit (two units never share a chart, and a scale never hides another line), the datasets on it, the shaded bands and
marker lines, and the same figures as a sentence and a table for readers who cannot see the canvas."""

from datetime import datetime, timedelta
from decimal import Decimal

from screening.selectors import baseline_and_window, in_force
from titration.selectors import estimated_volume
from wardflow import protocol
from wardflow.clinical_time import clock_text
from wardflow.policy import current_policy

from .selectors import PatientPage

CURVE_HOURS = timedelta(hours=12)
NEWS2_HOURS = timedelta(hours=72)  # V1: how far back the page's NEWS2 chart reaches
BLUE, RED, BROWN = "#0b5cad", "#b3261e", "#8a5a00"

# S5: the Modified Ashworth axis is ticked at its steps, 1+ where the protocol stores 1.5.
ASHWORTH_AXIS = {
    "title": "Modified Ashworth (mean of assessed limbs)",
    "unit": "",
    "min": 0,
    "max": 4,
    "ticks": [{"value": step, "label": notation} for step, notation in protocol.ASHWORTH_NOTATION.items()],
}
PENN_AXIS = {
    "title": "Penn spasm frequency score",
    "unit": "",
    "min": 0,
    "max": 4,
    "ticks": [{"value": Decimal(n), "label": str(n)} for n in range(5)],
}
# S5/V1: the vital signs charted at every observation, each on its own chart in its own unit; systolic and
# diastolic share mmHg.
VITAL_SIGNS = (
    ("heart_rate", "Heart rate", "beats/min", (("heart_rate", "heart rate"),)),
    ("blood_pressure", "Blood pressure", "mmHg", (("systolic_bp", "systolic"), ("diastolic_bp", "diastolic"))),
    ("respiratory_rate", "Respiratory rate", "breaths/min", (("respiratory_rate", "respiratory rate"),)),
    ("spo2", "SpO2", "%", (("spo2", "SpO2"),)),
    ("temperature", "Temperature", "°C", (("temperature_c", "temperature"),)),
)


def _hours(moment: datetime, since: datetime) -> float:
    return round((moment - since).total_seconds() / 3600, 2)


def _days(moment: datetime, since: datetime) -> float:
    return round((moment - since).total_seconds() / 86400, 2)


def _axis(title: str, unit: str, **bounds) -> dict:
    return {"title": f"{title} ({unit})", "unit": unit, **bounds}


def _point(x, y, text: str, emphasis: bool = False) -> dict:
    return {"x": x, "y": y, "text": text, "emphasis": emphasis}


def _chart(chart_id: str, title: str, x: dict, y: dict, datasets: list[dict], *, summary: str,
           annotations: list[dict] | None = None) -> dict:  # fmt: skip
    """One chart with one y axis; its table has a row per x value and a column per dataset."""
    columns = [x["title"], *(d["label"] for d in datasets)]
    by_x: dict = {}
    for i, dataset in enumerate(datasets):
        for point in dataset["points"]:
            row = by_x.setdefault(point["x"], [point["x_text"]] + [""] * len(datasets))
            row[i + 1] = point["text"]
    return {"id": chart_id, "title": title, "x": x, "y": y, "datasets": datasets, "annotations": annotations or [],
            "summary": summary, "columns": columns, "rows": [by_x[k] for k in sorted(by_x)]}  # fmt: skip


def _plain(value: Decimal) -> str:
    """A charted figure without trailing zeros: 2 for 2.0, 98.5 for 98.5."""
    return f"{Decimal(value).normalize():f}"


def response_curves(page: PatientPage) -> list[dict]:
    """Per test dose: Ashworth and Penn over hours since the dose, on two charts (one scale each, so neither line
    hides the other), its baseline marked (S5-S7); records entered in error are left out (D4)."""
    charts, doses, observations = [], in_force(page.doses), in_force(page.observations)
    window = protocol.ASSESSMENT_WINDOW_HOURS
    for i, dose in enumerate(doses):
        baseline, _ = baseline_and_window(dose, doses[:i], observations)
        after = [o for o in observations
                 if dose.administered_at <= o.observed_at <= dose.administered_at + CURVE_HOURS]  # fmt: skip
        points = ([baseline] if baseline else []) + after
        x = {"type": "linear", "title": "hours since the dose (baseline before 0)", "min": -1, "max": 9}
        annotations = [
            {"kind": "x-band", "from": window[0], "to": window[1],
             "label": f"{window[0]}-{window[1]} h assessment window"},
            {"kind": "x-line", "at": 0, "label": "dose"},
        ]  # fmt: skip
        for name, label, axis, field, notation in (
            ("ashworth", "Modified Ashworth (mean)", ASHWORTH_AXIS, "ashworth_mean", protocol.ashworth_notation),
            ("penn", "Penn spasm frequency", PENN_AXIS, "penn_spasm_frequency", _plain),
        ):
            series = []
            for o in points:
                h = _hours(o.observed_at, dose.administered_at)
                value = getattr(o, field)
                series.append({**_point(h, value, notation(value), emphasis=o is baseline),
                               "x_text": f"baseline, {h:g} h" if o is baseline else f"{h:g} h"})  # fmt: skip
            shown = ", ".join(f"{p['text']} at {p['x_text']}" for p in series) or "nothing charted yet"
            charts.append({"dose": dose.number} | _chart(
                f"curve-{dose.number}-{name}", f"Test dose {dose.number}: {dose.dose_mcg} mcg · {label}", x, axis,
                [{"label": label, "points": series, "color": BLUE if name == "ashworth" else RED}],
                annotations=annotations,
                summary=f"{label} after test dose {dose.number} ({dose.dose_mcg} mcg): {shown}.",
            ))  # fmt: skip
    return charts


def vital_signs(page: PatientPage, now: datetime) -> list[dict]:
    """S5/V1: each vital sign over the observations that count (D4), screening and after refills alike, one chart
    per unit; the x axis lists the observation times in ward time."""
    observations = in_force(page.observations)
    if not observations:
        return []
    labels = [clock_text(o.observed_at, now, always_date=True) for o in observations]
    x = {"type": "category", "title": "observed at (ward time)", "labels": labels}
    charts = []
    for name, title, unit, fields in VITAL_SIGNS:
        datasets = [
            {"label": label, "color": colour,
             "points": [{**_point(i, getattr(o, field), f"{_plain(getattr(o, field))} {unit}"), "x_text": labels[i]}
                        for i, o in enumerate(observations)]}
            for (field, label), colour in zip(fields, (BLUE, RED), strict=False)
        ]  # fmt: skip
        latest = observations[-1]
        now_text = "/".join(_plain(getattr(latest, field)) for field, _ in fields)
        lows = "/".join(_plain(min(getattr(o, field) for o in observations)) for field, _ in fields)
        highs = "/".join(_plain(max(getattr(o, field) for o in observations)) for field, _ in fields)
        charts.append(_chart(
            f"vital-{name}", f"{title} ({unit})", x, _axis(title, unit), datasets,
            summary=f"{title} over {len(observations)} observations from {labels[0]} to {labels[-1]}: "
                    f"lowest {lows} {unit}, highest {highs} {unit}, latest {now_text} {unit} at {labels[-1]}.",
        ))  # fmt: skip
    return charts


def pump_charts(page: PatientPage, now: datetime) -> list[dict]:
    """The daily dose over days since implant, and the reservoir volume projected to the alarm line: two charts
    (mcg/day and mL never share an axis), refills marked on both."""
    pump = page.pump
    if pump is None:
        return []
    x = {"type": "linear", "title": "days since implant", "min": 0}
    refills = [{"kind": "x-line", "at": _days(r.refilled_at, pump.implanted_at), "label": "refill"}
               for r in in_force(page.refills)]  # fmt: skip
    # T12: a change is charted from when it came in force; one waiting for its read-back is not shown at all.
    active = sorted((c for c in page.dose_changes if c.in_force_from), key=lambda c: c.in_force_from)
    steps = [_point(_days(c.in_force_from, pump.implanted_at), c.new_daily_dose_mcg,
                    f"{c.new_daily_dose_mcg} mcg/day") for c in active]  # fmt: skip
    if steps:
        steps.append(_point(_days(now, pump.implanted_at), steps[-1]["y"], f"{steps[-1]['y']} mcg/day (now)"))
    now_ml = estimated_volume(pump, now).quantize(Decimal("0.01"))
    volume = [
        _point(_days(pump.filled_at, pump.implanted_at), pump.volume_after_fill_ml,
               f"{pump.volume_after_fill_ml} mL (filled)"),
        _point(_days(now, pump.implanted_at), now_ml, f"{now_ml} mL (now, estimated)", emphasis=True),
    ]  # fmt: skip
    if pump.alarm_at:
        volume.append(_point(_days(pump.alarm_at, pump.implanted_at), pump.alarm_ml, f"{pump.alarm_ml} mL (alarm)"))
    for point in steps + volume:
        point["x_text"] = f"day {point['x']}"
    reservoir = "; ".join(f"{p['text']} on {p['x_text']}" for p in volume)
    programmed = ", ".join(f"{p['text']} from day {p['x']}" for p in steps[:-1])
    dose_summary = f"Daily dose since implant: {programmed}." if steps else "No daily dose programmed yet."
    return [
        _chart("dose-history", "Daily dose (mcg/day)", x, _axis("daily dose", "mcg/day", min=0),
               [{"label": "daily dose", "points": steps, "color": BLUE, "stepped": True}],
               annotations=refills, summary=dose_summary),
        _chart("reservoir-volume", "Reservoir volume (mL)", x, _axis("reservoir volume", "mL", min=0),
               [{"label": "reservoir volume, projected to the alarm", "points": volume, "color": BROWN,
                 "dashed": True}],
               annotations=[{"kind": "y-line", "at": pump.alarm_ml, "label": "alarm volume"}, *refills],
               summary=f"Reservoir: {reservoir}; the alarm sounds at {pump.alarm_ml} mL."),
    ]  # fmt: skip


def record_charts(page: PatientPage, now: datetime) -> dict[str, list[dict]]:
    """The page's record charts by where they are shown."""
    return {"response": response_curves(page), "vitals": vital_signs(page, now), "pump": pump_charts(page, now)}


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
