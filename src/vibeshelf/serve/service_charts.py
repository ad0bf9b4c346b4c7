"""Inline SVG bar charts of the service figures: p50/p95 per route or stage, counts per source."""

from __future__ import annotations

from html import escape

from vibeshelf.serve.service_figures import Timing

WIDTH = 520
ROW = 22
LABEL = 170  # room for the row's name left of its bars
P50, P95 = "#0d6efd", "#9ec5fe"


def _svg(kind: str, title: str, rows: int, parts: list[str]) -> str:
    height = ROW * max(1, rows) + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" class="chart chart-{kind}" aria-label="{escape(title)}">{"".join(parts)}</svg>'
    )


def _bar(y: float, value: float, top: float, colour: str, height: float, tip: str) -> str:
    width = (WIDTH - LABEL - 70) * value / (top or 1.0)
    return (
        f'<rect class="bar" x="{LABEL}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{escape(tip)}</title></rect>'
    )


def latency_chart(kind: str, title: str, rows: list[Timing]) -> str:
    """Per row a light p95 bar behind a dark p50 bar, both in ms on one scale, values at the end."""
    top = max((r.p95_ms for r in rows), default=0.0)
    parts = [
        f'<text x="4" y="14" font-size="11" fill="#666">{escape(title)}</text>',
        f'<text x="{WIDTH - 130}" y="14" font-size="11" fill="{P50}">■ p50</text>',
        f'<text x="{WIDTH - 80}" y="14" font-size="11" fill="{P95}">■ p95</text>',
    ]
    for k, r in enumerate(rows):
        y = 22 + ROW * k
        parts.append(
            f'<text x="4" y="{y + 13}" font-size="11">{escape(r.name[:28])}</text>'
            + _bar(y + 2, r.p95_ms, top, P95, ROW - 6, f"{r.name} p95 {r.p95_ms:.1f} ms")
            + _bar(y + 6, r.p50_ms, top, P50, ROW - 14, f"{r.name} p50 {r.p50_ms:.1f} ms")
            + f'<text x="{WIDTH - 66}" y="{y + 13}" font-size="10" fill="#666">'
            f"{r.p50_ms:.1f} / {r.p95_ms:.1f}</text>"
        )
    return _svg(kind, title, len(rows), parts)


def count_chart(kind: str, title: str, counts: dict[str, float]) -> str:
    """One bar per name, scaled to the largest count, the count at the end."""
    top = max(counts.values(), default=0.0)
    parts = [f'<text x="4" y="14" font-size="11" fill="#666">{escape(title)}</text>']
    for k, (name, value) in enumerate(counts.items()):
        y = 22 + ROW * k
        parts.append(
            f'<text x="4" y="{y + 13}" font-size="11">{escape(name[:28])}</text>'
            + _bar(y + 3, value, top, P50, ROW - 8, f"{name}: {value:,.0f}")
            + f'<text x="{WIDTH - 66}" y="{y + 13}" font-size="10" fill="#666">{value:,.0f}</text>'
        )
    return _svg(kind, title, len(counts), parts)
