"""Every evaluation set side by side: each set's headline metric with a bootstrap interval, as text or JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vibeshelf.search.evaluate import METRICS, SetScores

LEVEL = 0.95
ROUNDS = 2_000
HIJACK = "hijack@3"

# Results by set name, then by row (a retrieval variant, maybe with its build's label).
Results = Mapping[str, Mapping[str, SetScores]]


def bootstrap_interval(
    values: np.ndarray, *, level: float = LEVEL, rounds: int = ROUNDS, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-query `values` (queries resampled with
    replacement); a single query gives its own value twice."""
    if not len(values):
        return (float("nan"), float("nan"))
    rows = np.random.default_rng(seed).integers(0, len(values), size=(rounds, len(values)))
    low, high = np.percentile(values[rows].mean(axis=1), [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def headlines(graded: bool) -> tuple[str, ...]:
    """The metrics a set is judged by: graded nDCG@10 and P@10 for a graded set (several
    relevant books of two grades), else MRR@10 (a set looking for one book or a shelf)."""
    return ("ndcg@10", "p@10") if graded else ("mrr@10",)


def side_by_side(results: Results, graded: Mapping[str, bool]) -> dict[str, dict[str, Any]]:
    """Per row: each set's headline metrics with intervals, their mean over sets (the first
    headline of each) and the title-hijack share of all top-3 results, every set pooled."""
    rows = list(dict.fromkeys(row for by_row in results.values() for row in by_row))
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        cells: dict[str, Any] = {}
        firsts, hijacks = [], []
        for name, by_row in results.items():
            scores = by_row.get(row)
            if scores is None:
                continue
            for i, metric in enumerate(headlines(graded[name])):
                values = scores.per_query[metric]
                cells[f"{name} {metric}"] = {
                    "value": float(values.mean()), "interval": list(bootstrap_interval(values))}
                if i == 0:
                    firsts.append(float(values.mean()))
            if HIJACK in scores.per_query:
                hijacks.append(scores.per_query[HIJACK])
        cells["mean"] = {"value": float(np.mean(firsts)) if firsts else float("nan")}
        if hijacks:
            pooled = np.concatenate(hijacks)
            cells[HIJACK] = {"value": float(pooled.mean()), "interval": list(bootstrap_interval(pooled))}
        out[row] = cells
    return out


def format_side_by_side(table: Mapping[str, Mapping[str, Any]]) -> str:
    """Rows by columns, each cell "value (low-high)"; the interval is the bootstrap 95 %."""
    columns = list(dict.fromkeys(c for cells in table.values() for c in cells))
    shown = {row: [_cell(cells.get(c)) for c in columns] for row, cells in table.items()}
    widths = [max(len(c), *(len(v[i]) for v in shown.values())) for i, c in enumerate(columns)]
    label = max(len(row) for row in table)
    lines = [f"{'':<{label}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))]
    for row, values in shown.items():
        lines.append(f"{row:<{label}}  " + "  ".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True)))
    return "\n".join(lines)


def _cell(cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return "-"
    if "interval" not in cell:
        return f"{cell['value']:.3f}"
    low, high = cell["interval"]
    return f"{cell['value']:.3f} ({low:.3f}-{high:.3f})"


def as_json(
    results: Results, graded: Mapping[str, bool], counts: Mapping[str, int], skipped: Mapping[str, str]
) -> dict[str, Any]:
    """Everything the text report says: per set and row every metric with its interval and its
    per-query values (in the set's query order, for paired comparisons of two runs), the
    side-by-side table, and the sets skipped with why."""
    sets = {}
    for name, by_row in results.items():
        rows = {}
        for row, scores in by_row.items():
            rows[row] = {
                metric: {"value": value, **({
                    "interval": list(bootstrap_interval(scores.per_query[metric])),
                    "per_query": scores.per_query[metric].round(6).tolist(),
                } if metric in scores.per_query and metric in METRICS else {})}
                for metric, value in scores.metrics.items()
            }
        sets[name] = {"queries": counts[name], "graded": graded[name], "rows": rows}
    return {"sets": sets, "side_by_side": side_by_side(results, graded), "skipped": dict(skipped)}
