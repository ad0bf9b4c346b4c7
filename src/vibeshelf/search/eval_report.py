"""Every evaluation set side by side: each set's headline metric with a bootstrap interval, as text or JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vibeshelf.search.evaluate import (
    METRICS,
    EvalQuery,
    SetScores,
    bootstrap_rows,
    evaluate_service,
    format_gains,
    format_table,
    in_catalog,
    percentile_interval,
)
from vibeshelf.search.service import SearchService

LEVEL = 0.95
ROUNDS = 2_000
HIJACK = "hijack@3"

# Results by set name, then by row (a retrieval variant, maybe with its build's label).
Results = Mapping[str, Mapping[str, SetScores]]


@dataclass
class Scoring:
    """What `score_sets` found: per set its rows' scores and queries scored, the sets skipped
    with why, and the per-set text (tables and gains) in order."""

    results: dict[str, dict[str, SetScores]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def score_sets(
    sets: Mapping[str, Sequence[EvalQuery]],
    services: Mapping[str, Sequence[tuple[str, SearchService]]],
    where: Mapping[str, Path],
) -> Scoring:
    """Score each set with its (label, service) pairs (label "" for one build), on the queries
    whose books the catalog holds; a set with none is skipped, naming `where` it was looked for."""
    out = Scoring()
    for name, all_queries in sets.items():
        queries = in_catalog(all_queries, services[name][0][1].catalog)
        if not queries:
            out.skipped[name] = f"none of its books are in the catalog at {where[name]}"
            out.lines.append(f"{name}: skipped, {out.skipped[name]}")
            continue
        rows: dict[str, SetScores] = {}
        gains = []
        for label, service in services[name]:
            scored = evaluate_service(service, queries)
            rows.update({label + variant: result for variant, result in scored.items()})
            gains.append(label + format_gains(scored))
        out.results[name], out.counts[name] = rows, len(queries)
        left_out = len(all_queries) - len(queries)
        suffix = f", {left_out} left out: their books are not in this catalog" if left_out else ""
        out.lines += [f"{name} ({len(queries)} queries{suffix})",
                      format_table({row: r.metrics for row, r in rows.items()}) + "\n",
                      "\n".join(gains) + "\n"]
    return out


def bootstrap_interval(
    values: np.ndarray, *, level: float = LEVEL, rounds: int = ROUNDS, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-query `values` (queries resampled with
    replacement); a single query gives its own value twice."""
    if not len(values):
        return (float("nan"), float("nan"))
    return percentile_interval(values[bootstrap_rows(len(values), rounds, seed)].mean(axis=1), level)


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
