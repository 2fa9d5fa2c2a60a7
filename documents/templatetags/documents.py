"""Filters of the printed documents: absolute times with their zone, and the record charts as inline SVG."""

import math
from datetime import UTC, datetime

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from wardflow.clinical_time import ward_local

register = template.Library()

WIDTH, HEIGHT = 300, 140
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 8, 22


@register.filter
def on_paper(value: datetime | None) -> str:
    """A time as a sheet of paper must say it, read on any later day: "Thu 3 Dec 2026 14:40 GMT" (never "in 3
    days"); a stored time the ward's zone cannot represent is shown in UTC."""
    if value in (None, ""):
        return ""
    try:
        local = ward_local(value)
    except OverflowError:
        local = value.astimezone(UTC)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {local:%Z}"


def _scale(lo: float, hi: float, start: float, end: float):
    span = (hi - lo) or 1.0
    return lambda v: round(start + (float(v) - lo) / span * (end - start), 1)


def _x_range(chart: dict) -> tuple[float, float, list[tuple[float, str]]]:
    x = chart["x"]
    if x["type"] == "category":
        labels = x["labels"]
        return -0.5, len(labels) - 0.5, [(i, str(i + 1)) for i in range(len(labels))]
    values = [float(p["x"]) for d in chart["datasets"] for p in d["points"]]
    lo = min([float(x["min"])] if "min" in x else values or [0.0])
    hi = max([float(x["max"]), *values] if "max" in x else values or [1.0])
    return lo, hi, [(v, f"{v:g}") for v in range(math.ceil(lo), math.floor(hi) + 1)]


def _y_range(chart: dict) -> tuple[float, float, list[tuple[float, str]]]:
    y = chart["y"]
    values = [float(p["y"]) for d in chart["datasets"] for p in d["points"]]
    lo = float(y["min"]) if "min" in y else min(values, default=0.0)
    hi = float(y["max"]) if "max" in y else max(values, default=1.0)
    if "min" not in y or "max" not in y:
        pad = (hi - lo) * 0.15 or 5.0
        lo, hi = (lo if "min" in y else math.floor(lo - pad)), (hi if "max" in y else math.ceil(hi + pad))
    if y.get("ticks"):
        return lo, hi, [(float(t["value"]), t["label"]) for t in y["ticks"]]
    step = (hi - lo) / 4
    return lo, hi, [(lo + i * step, f"{lo + i * step:.0f}") for i in range(5)]


@register.filter
def svg_chart(chart: dict) -> SafeString:
    """One record chart of web/charts.py (one y axis, its datasets, bands and marker lines) as a small inline SVG
    that WeasyPrint draws; the chart's own summary sentence goes beside it on the page."""
    x_lo, x_hi, x_ticks = _x_range(chart)
    y_lo, y_hi, y_ticks = _y_range(chart)
    sx = _scale(x_lo, x_hi, LEFT, WIDTH - RIGHT)
    sy = _scale(y_lo, y_hi, HEIGHT - BOTTOM, TOP)
    parts = []
    for note in chart["annotations"]:
        if note["kind"] == "x-band":
            x0, x1 = sx(note["from"]), sx(note["to"])
            parts.append(format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="#e8eef7"/>', x0, TOP,
                                     round(x1 - x0, 1), HEIGHT - BOTTOM - TOP))  # fmt: skip
        elif note["kind"] == "x-line":
            parts.append(format_html('<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#555" stroke-dasharray="3 2"/>',
                                     sx(note["at"]), TOP, HEIGHT - BOTTOM))  # fmt: skip
    for value, label in y_ticks:
        parts.append(format_html('<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="#ddd"/>'
                                 '<text x="{3}" y="{4}" text-anchor="end">{5}</text>',
                                 LEFT, WIDTH - RIGHT, sy(value), LEFT - 3, sy(value) + 3, label))  # fmt: skip
    for value, label in x_ticks:
        parts.append(format_html('<text x="{}" y="{}" text-anchor="middle">{}</text>', sx(value),
                                 HEIGHT - BOTTOM + 11, label))  # fmt: skip
    parts.append(format_html('<text x="{}" y="{}" text-anchor="middle">{}</text>', (LEFT + WIDTH - RIGHT) / 2,
                             HEIGHT - 2, chart["x"]["title"]))  # fmt: skip
    for dataset in chart["datasets"]:
        points = [(sx(p["x"]), sy(p["y"])) for p in dataset["points"]]
        path = " ".join(f"{x},{y}" for x, y in points)
        parts.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5"/>', path,
                                 dataset["color"]))  # fmt: skip
        parts.append(format_html_join("", '<circle cx="{}" cy="{}" r="2.2" fill="{}"/>',
                                      ((x, y, dataset["color"]) for x, y in points)))  # fmt: skip
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}" '
        'font-family="WardFlow Sans" font-size="8">{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        chart["title"],
        SafeString("".join(parts)),
    )
