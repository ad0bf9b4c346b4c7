"""Offline search evaluation: JSONL query sets, MRR/nDCG/P/recall and title hijacks per mode, held-out shelf catalogs."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.documents import build_document
from vibeshelf.catalog.genres import genre_map, shelf_key
from vibeshelf.catalog.schema import ARROW_SCHEMA, read_books
from vibeshelf.ranking_metrics import (
    gains_matrix,
    graded_ndcg,
    hits_matrix,
    precision,
    recalls,
    reciprocal_ranks,
)
from vibeshelf.search.hijack import hijacked_share
from vibeshelf.search.schemas import SearchParams
from vibeshelf.search.service import SearchService

METRICS: tuple[str, ...] = ("mrr@10", "ndcg@10", "p@10", "recall@10", "recall@50", "hijack@3")
# Retrieval variants compared side by side: a mode, "+rerank" for the learned rerank.
VARIANTS: tuple[str, ...] = ("vector", "lexical", "hybrid", "hybrid+rerank")
DEPTH = 50


class EvalSetError(ValueError):
    """A query file that cannot be evaluated."""


@dataclass(frozen=True)
class EvalQuery:
    """One query and the ids of the books that answer it; `holdout` shelves leak the answer;
    `grades` (2 = exactly what was asked, 1 = acceptable) where judged, else every one is 1."""

    query: str
    relevant: frozenset[str]
    holdout: tuple[str, ...] = ()
    grades: Mapping[str, int] = field(default_factory=dict)

    def graded(self) -> dict[str, int]:
        """Every relevant id with its grade."""
        return {book_id: self.grades.get(book_id, 1) for book_id in self.relevant}


def load_queries(path: Path) -> list[EvalQuery]:
    """Queries from JSONL lines {"query": ..., "relevant": [ids], "holdout": [shelves]?,
    "grades": {id: grade}?}."""
    if not path.is_file():
        raise EvalSetError(f"no query file at {path}")
    queries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query = EvalQuery(
                str(row["query"]), frozenset(map(str, row["relevant"])), tuple(row.get("holdout", ())),
                {str(k): int(v) for k, v in row.get("grades", {}).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalSetError(f"{path}:{n}: expected {{query, relevant: [ids]}}: {exc}") from exc
        if not query.relevant:
            raise EvalSetError(f"{path}:{n}: no relevant ids")
        queries.append(query)
    if not queries:
        raise EvalSetError(f"{path} holds no queries")
    return queries


def in_catalog(queries: Iterable[EvalQuery], catalog: BookCatalog) -> list[EvalQuery]:
    """The queries with their relevant books narrowed to the catalog's; those left with none are
    dropped (a sample or another catalog holds only some of a set's books)."""
    kept = []
    for q in queries:
        relevant = frozenset(b for b in q.relevant if b in catalog)
        if relevant:
            kept.append(replace(q, relevant=relevant))
    return kept


def check_holdout(queries: Iterable[EvalQuery], catalog: BookCatalog, where: str) -> None:
    """Raise EvalSetError when books still carry a query's `holdout` shelves, or a genre that is
    one of them spelled otherwise, naming them."""
    held = {s for q in queries for s in q.holdout}
    leaked = sorted({s for s in held if catalog.shelf_counts.get(s, 0) > 0}
                    | {g for g in held_out_genres(held) if catalog.genre_counts.get(g, 0) > 0})
    if leaked:
        shown = ", ".join(leaked[:5]) + (f" and {len(leaked) - 5} more" if len(leaked) > 5 else "")
        raise EvalSetError(
            f"{where}: books still carry the held-out shelves or genres {shown}, which give the"
            " answers away. Write a held-out catalog with vibeshelf.search.evaluate.holdout_catalog"
            " into another data dir, embed and index it, and evaluate that data dir"
            " (docs/search-quality.md)"
        )


def held_out_genres(shelves: Iterable[str]) -> set[str]:
    """The genres that are another spelling of a held-out shelf ("cozy mystery" of cozy-mystery
    and mystery-cozy), which go with it; broader ones (horror for creepy) stay, as the broader
    shelves did."""
    return {g for s in shelves for g in genre_map().of_shelf(s) if shelf_key(g) == shelf_key(s)}


@dataclass(frozen=True)
class SetScores:
    """A ranker's metrics on a query set (METRICS, maybe p50_ms), each query's reciprocal rank
    at 10 (which the gain intervals resample), and each query's value of every metric."""

    metrics: dict[str, float]
    reciprocal_ranks: np.ndarray
    per_query: dict[str, np.ndarray] = field(default_factory=dict)


def score_rankings(
    rankings: Sequence[Sequence[str]],
    relevant: Sequence[frozenset[str]],
    grades: Sequence[Mapping[str, int]] | None = None,
    hijacks: Sequence[float] | None = None,
) -> SetScores:
    """MRR@10, graded nDCG@10 (grade 1 where none given), P@10, recall@10, recall@50 and, when
    given, the title-hijack share of each query's top 3; averaged over queries."""
    hits = hits_matrix(rankings, relevant)
    if hits.shape[1] < DEPTH:
        hits = np.pad(hits, ((0, 0), (0, DEPTH - hits.shape[1])))
    given = grades or [{}] * len(relevant)
    graded = [{b: g.get(b, 1) for b in rel} for rel, g in zip(relevant, given, strict=True)]
    ideal = [list(g.values()) for g in graded]
    n_relevant = np.array([len(r) for r in relevant])
    per_query = {
        "mrr@10": reciprocal_ranks(hits, 10),
        "ndcg@10": graded_ndcg(gains_matrix(rankings, graded), ideal, 10),
        "p@10": precision(hits, 10),
        "recall@10": recalls(hits, n_relevant, 10),
        "recall@50": recalls(hits, n_relevant, DEPTH),
    }
    if hijacks is not None:
        per_query["hijack@3"] = np.asarray(hijacks, dtype=float)
    metrics = {name: float(values.mean()) for name, values in per_query.items()}
    return SetScores(metrics, per_query["mrr@10"], per_query)


def evaluate(
    queries: Sequence[EvalQuery],
    ranker: Callable[[str], list[str]],
    catalog: BookCatalog | None = None,
) -> SetScores:
    """Score a ranker (query text -> book ids, best first) on a query set; with the catalog, the
    title-hijack share of each top 3 too."""
    rankings = [ranker(q.query) for q in queries]
    hijacks = None if catalog is None else [
        hijacked_share(q.query, [catalog.get(b) for b in ranking])
        for q, ranking in zip(queries, rankings, strict=True)
    ]
    return score_rankings(
        rankings, [q.relevant for q in queries], [q.graded() for q in queries], hijacks
    )


def evaluate_service(
    service: SearchService, queries: Sequence[EvalQuery], variants: Sequence[str] = VARIANTS
) -> dict[str, SetScores]:
    """Metrics and in-process p50 latency (ms, whole search call) for each variant."""
    out = {}
    for variant in variants:
        mode, _, rerank = variant.partition("+")
        times: list[float] = []

        def ranker(
            text: str, mode: str = mode, rerank: bool = bool(rerank), times: list[float] = times
        ) -> list[str]:
            started = time.perf_counter()
            params = SearchParams(q=text, limit=DEPTH, mode=mode, rerank=rerank)  # type: ignore[arg-type]
            response = service.search(params)
            times.append((time.perf_counter() - started) * 1000)
            return [r.book_id for r in response.results]

        scored = evaluate(queries, ranker, service.catalog)
        out[variant] = replace(scored, metrics={**scored.metrics, "p50_ms": statistics.median(times)})
    return out


@dataclass(frozen=True)
class Gain:
    """Relative MRR@10 gain over a baseline on the same queries, with a bootstrap interval."""

    relative: float
    low: float
    high: float


def bootstrap_rows(n: int, rounds: int, seed: int) -> np.ndarray:
    """`rounds` resamples of `n` queries with replacement, a row of query indexes each; index
    several variants' per-query values with the same rows for a paired bootstrap."""
    return np.random.default_rng(seed).integers(0, n, size=(rounds, n))


def percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap `samples`."""
    low, high = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def mrr_gain(
    baseline: np.ndarray, other: np.ndarray, *, level: float = 0.95, rounds: int = 10_000, seed: int = 0
) -> Gain:
    """`other`'s MRR over `baseline`'s, minus 1, from the two variants' reciprocal ranks on the
    same queries; the interval is a paired percentile bootstrap (queries resampled with
    replacement, both variants together). NaN where the baseline's MRR is 0."""
    if baseline.shape != other.shape or not len(baseline):
        raise ValueError("mrr_gain needs the reciprocal ranks of the same queries, at least one")
    rows = bootstrap_rows(len(baseline), rounds, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = other[rows].mean(axis=1) / baseline[rows].mean(axis=1) - 1
        point = other.mean() / baseline.mean() - 1
    finite = resampled[np.isfinite(resampled)]
    if not np.isfinite(point) or not len(finite):
        return Gain(np.nan, np.nan, np.nan)
    return Gain(float(point), *percentile_interval(finite, level))


def format_gains(scored: Mapping[str, SetScores], baseline: str = "vector", level: float = 0.95) -> str:
    """Lines giving each other variant's MRR@10 gain over `baseline`, with its interval."""
    base = scored[baseline].reciprocal_ranks
    lines = [f"MRR@10 against {baseline}, with a paired bootstrap {level:.0%} interval over the {len(base)} queries:"]
    width = max(len(name) for name in scored)
    for name, result in scored.items():
        if name == baseline:
            continue
        gain = mrr_gain(base, result.reciprocal_ranks, level=level)
        shown = (
            "n/a (the baseline finds nothing)" if np.isnan(gain.relative)
            else f"{gain.relative:+7.1%}  ({gain.low:+.1%} to {gain.high:+.1%})"
        )
        lines.append(f"  {name:<{width}}  {shown}")
    return "\n".join(lines)


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per name, one column per metric (p50_ms too when present)."""
    width = max(len(name) for name in rows)
    columns = [c for c in (*METRICS, "p50_ms") if all(c in scores for scores in rows.values())]
    lines = [f"{'':<{width}}  " + "  ".join(f"{c:>9}" for c in columns)]
    for name, scores in rows.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{scores[c]:>9.4f}" for c in columns))
    return "\n".join(lines)


def holdout_catalog(src: Path, dst: Path, shelves: Iterable[str]) -> int:
    """Copy a books table without `shelves` (in shelf lists and documents) and the genres spelled
    like them (in genre lists; the other genres keep their order); returns books changed."""
    dropped = set(shelves)
    gone = held_out_genres(dropped)
    rows = read_books(src).to_pylist()
    changed = 0
    for row in rows:
        kept = [s for s in row["shelves"] or () if s not in dropped]
        named = genre_map().votes(kept)
        genres = [g for g in row["genres"] if g in named and g not in gone]
        if kept != (row["shelves"] or []) or genres != row["genres"]:
            changed += 1
            row["shelves"], row["genres"] = kept, genres
            row["document"] = build_document(row["title"], row["authors"], kept, row["description"])
    dst.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), dst)
    return changed
