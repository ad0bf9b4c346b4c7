"""Per-version impressions, clicks, CTR with a Wilson 95% interval, over time, as SVG plots."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from vibeshelf.analytics.events import Counts
from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.experiment.registry import SURFACES, RegistryFile

Z95 = 1.959964
PALETTE = ("#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997")
WIDTH, HEIGHT, PAD = 560, 180, 32


def wilson(clicks: int, impressions: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of clicks / impressions ((0, 1) with no impressions)."""
    if impressions <= 0:
        return 0.0, 1.0
    p = clicks / impressions
    denom = 1 + z * z / impressions
    centre = (p + z * z / (2 * impressions)) / denom
    half = z * math.sqrt(p * (1 - p) / impressions + z * z / (4 * impressions**2)) / denom
    # The interval holds p exactly; rounding at p = 0 or 1 must not push a bound past it.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def experiment_report(registry_file: RegistryFile, store: AnalyticsStore) -> dict[str, Any]:
    """Every surface's versions with their traffic, figures (from the daily rollup) and weight
    history."""
    registry = registry_file.read()
    surfaces: dict[str, Any] = {}
    for surface in SURFACES:
        versions = registry.of(surface, None)
        if not versions:
            continue
        counts, events = store.counts(surface), store.events(surface)
        timeline = store.timeline(surface)
        rows = []
        for v in versions:
            c = counts.get(v.name)
            impressions, clicks = (c.impressions, c.clicks) if c else (0, 0)
            low, high = wilson(clicks, impressions)
            rows.append({
                "name": v.name, "status": v.status, "weight": v.weight, "pinned": v.pinned,
                "created": v.created, "target": v.target, "metrics": v.metrics,
                "impressions": impressions, "clicks": clicks,
                "ctr": clicks / impressions if impressions else None,
                "ctr_low": low, "ctr_high": high, "events": events.get(v.name, {}),
                "ctr_history": cumulative(timeline.get(v.name, [])),
            })
        history = [
            {"ts": e["ts"], "reason": e["reason"], "weights": e["new"]}
            for e in registry_file.history(surface)
        ]
        surfaces[surface] = {"versions": rows, "history": history}
    return {"surfaces": surfaces}


def cumulative(buckets: list[tuple[datetime, Counts]]) -> list[dict[str, Any]]:
    """Per day: impressions, clicks and CTR of every list served by the day's end."""
    out: list[dict[str, Any]] = []
    shown = clicked = 0
    for start, counts in buckets:
        shown, clicked = shown + counts.impressions, clicked + counts.clicks
        out.append({"ts": start.isoformat(), "impressions": shown, "clicks": clicked,
                    "ctr": clicked / shown})
    return out


@dataclass(frozen=True)
class TimeAxis:
    """The x axis of the time charts, `start` to `end` (UTC), labelled at both ends and between."""

    start: datetime
    end: datetime

    @classmethod
    def spanning(cls, times: Iterable[datetime], end: datetime) -> TimeAxis:
        start = min(times, default=end)
        return cls(start, max(end, start + timedelta(seconds=1)))

    def x(self, t: datetime) -> float:
        return PAD + (WIDTH - 2 * PAD) * (t - self.start) / (self.end - self.start)

    def labels(self) -> str:
        span = self.end - self.start
        fmt = ("%H:%M:%S" if span < timedelta(hours=1) else "%H:%M" if span < timedelta(days=1)
               else "%m-%d %H:%M" if span < timedelta(days=7) else "%Y-%m-%d")
        middle = self.start + span / 2
        ticks = [(self.start, "start", ""), (middle, "middle", ""), (self.end, "end", " UTC")]
        return "".join(
            f'<text x="{self.x(t):.1f}" y="{HEIGHT - 10}" font-size="10" fill="#666" '
            f'text-anchor="{anchor}" class="time">{t.astimezone(UTC).strftime(fmt)}{zone}</text>'
            for t, anchor, zone in ticks
        )


def surface_charts(data: dict[str, Any], end: datetime) -> dict[str, str]:
    """A surface's charts from its report: weights and CTR over time (up to `end`), CTR now."""
    rows, history = data["versions"], data["history"]
    times = [_time(e["ts"]) for e in history] + [
        _time(p["ts"]) for r in rows for p in r["ctr_history"]
    ]
    axis = TimeAxis.spanning(times, end)
    return {
        "weights": weight_chart([r["name"] for r in rows], history, axis),
        "ctr_history": ctr_history_chart(rows, axis),
        "ctr": ctr_chart(rows),
    }


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _time(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def weight_chart(names: list[str], history: list[dict[str, Any]], axis: TimeAxis) -> str:
    """Each version's weight (0-100) over time, as steps from its first change to the axis end."""
    y = lambda w: HEIGHT - PAD - (HEIGHT - 2 * PAD) * w / 100
    parts = [_frame("weight %", ["0", "50", "100"]), axis.labels()]
    for k, name in enumerate(names):
        points: list[tuple[float, float]] = []
        for entry in history:
            if name in entry["weights"]:
                x = axis.x(_time(entry["ts"]))
                if points:
                    points.append((x, points[-1][1]))
                points.append((x, y(entry["weights"][name])))
        if points:
            points.append((axis.x(axis.end), points[-1][1]))
        parts.append(_line(k, name, points))
    return _svg("Weight history", "weights", parts, names)


def ctr_history_chart(rows: list[dict[str, Any]], axis: TimeAxis) -> str:
    """Each version's cumulative CTR over time: a line, with a dot per time bucket."""
    top = max((p["ctr"] for r in rows for p in r["ctr_history"]), default=0.0) or 1.0
    y = lambda v: HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top
    parts = [_frame("CTR so far", ["0", f"{top / 2:.1%}", f"{top:.1%}"]), axis.labels()]
    for k, r in enumerate(rows):
        points = [(axis.x(_time(p["ts"])), y(p["ctr"])) for p in r["ctr_history"]]
        parts.append(_line(k, r["name"], points, dots=True))
    return _svg("CTR over time", "ctr-history", parts, [r["name"] for r in rows])


def _line(k: int, name: str, points: list[tuple[float, float]], dots: bool = False) -> str:
    """One version's polyline (and a dot per point), or nothing without points."""
    if not points:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_colour(k)}"/>' for x, y in points
    ) if dots else ""
    return (
        f'<polyline fill="none" stroke="{_colour(k)}" stroke-width="2" points="{coords}">'
        f"<title>{escape(name)}</title></polyline>{marks}"
    )


def ctr_chart(rows: list[dict[str, Any]]) -> str:
    """CTR per version as a dot with its 95% interval as a bar, on a shared scale."""
    top = max([r["ctr_high"] for r in rows if r["impressions"]] or [0.0]) or 1.0
    band = (HEIGHT - 2 * PAD) / max(1, len(rows))
    parts = [_frame("CTR", ["0", f"{top / 2:.1%}", f"{top:.1%}"], vertical=True)]
    for k, r in enumerate(rows):
        cy = PAD + band * (k + 0.5)
        scale = lambda v: PAD + (WIDTH - 2 * PAD) * v / top
        if r["impressions"]:
            parts.append(
                f'<line x1="{scale(r["ctr_low"]):.1f}" x2="{scale(r["ctr_high"]):.1f}" y1="{cy:.1f}" '
                f'y2="{cy:.1f}" stroke="{_colour(k)}" stroke-width="6" stroke-opacity="0.35"/>'
                f'<circle cx="{scale(r["ctr"]):.1f}" cy="{cy:.1f}" r="5" fill="{_colour(k)}">'
                f"<title>{escape(r['name'])}: {r['ctr']:.2%}</title></circle>"
            )
        parts.append(
            f'<text x="{PAD + 4}" y="{cy - 8:.1f}" font-size="11">{escape(r["name"])}</text>'
        )
    return _svg("CTR with 95% interval", "ctr", parts, [r["name"] for r in rows])


def _frame(label: str, ticks: list[str], vertical: bool = False) -> str:
    lines = [(f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" '
             'fill="none" stroke="#ccc"/>'),
             f'<text x="4" y="14" font-size="11" fill="#666">{escape(label)}</text>']
    for i, tick in enumerate(ticks):
        frac = i / max(1, len(ticks) - 1)
        tx: float
        ty: float
        if vertical:
            tx, ty = PAD + (WIDTH - 2 * PAD) * frac, HEIGHT - 10
        else:
            tx, ty = 4.0, HEIGHT - PAD - (HEIGHT - 2 * PAD) * frac + 4
        lines.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="10" fill="#666">{escape(tick)}</text>')
    return "".join(lines)


def _svg(title: str, kind: str, parts: list[str], names: list[str]) -> str:
    legend = "".join(
        f'<text x="{WIDTH - PAD - 120 * (len(names) - k)}" y="14" font-size="11" '
        f'fill="{_colour(k)}">■ {escape(n)}</text>'
        for k, n in enumerate(names)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'class="chart chart-{kind}" aria-label="{escape(title)}">{"".join(parts)}{legend}</svg>'
    )
