"""Offline search evaluation: JSONL query sets, MRR/nDCG/recall per mode, held-out shelf catalogs."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog.documents import build_document
from vibeshelf.catalog.table import ARROW_SCHEMA, read_books
from vibeshelf.recommend.metrics import hits_matrix, mrr, ndcg, recall
from vibeshelf.search.models import SearchParams
from vibeshelf.search.service import SearchService

METRICS: tuple[str, ...] = ("mrr@10", "ndcg@10", "recall@10", "recall@50")
# Retrieval variants compared side by side: a mode, "+rerank" for the learned rerank.
VARIANTS: tuple[str, ...] = ("vector", "lexical", "hybrid", "hybrid+rerank")
DEPTH = 50


class EvalSetError(ValueError):
    """A query file that cannot be evaluated."""


@dataclass(frozen=True)
class EvalQuery:
    """One query and the ids of the books that answer it; `holdout` shelves leak the answer."""

    query: str
    relevant: frozenset[str]
    holdout: tuple[str, ...] = ()


def load_queries(path: Path) -> list[EvalQuery]:
    """Queries from JSONL lines {"query": ..., "relevant": [ids], "holdout": [shelves]?}."""
    if not path.is_file():
        raise EvalSetError(f"no query file at {path}")
    queries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query = EvalQuery(
                str(row["query"]), frozenset(map(str, row["relevant"])), tuple(row.get("holdout", ()))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalSetError(f"{path}:{n}: expected {{query, relevant: [ids]}}: {exc}") from exc
        if not query.relevant:
            raise EvalSetError(f"{path}:{n}: no relevant ids")
        queries.append(query)
    if not queries:
        raise EvalSetError(f"{path} holds no queries")
    return queries


def check_holdout(
    queries: Iterable[EvalQuery], shelf_counts: Mapping[str, int], where: str
) -> None:
    """Raise EvalSetError when books still carry a query's `holdout` shelves, naming them."""
    leaked = sorted({s for q in queries for s in q.holdout if shelf_counts.get(s, 0) > 0})
    if leaked:
        shown = ", ".join(leaked[:5]) + (f" and {len(leaked) - 5} more" if len(leaked) > 5 else "")
        raise EvalSetError(
            f"{where}: books still carry the held-out shelves {shown}, which give the answers away."
            " Write a held-out catalog with vibeshelf.search.evaluate.holdout_catalog into another"
            " data dir, embed and index it, and evaluate that data dir (README: Search quality)"
        )


def score_rankings(rankings: Sequence[Sequence[str]], relevant: Sequence[frozenset[str]]) -> dict[str, float]:
    """MRR@10, nDCG@10, recall@10 and recall@50, averaged over queries."""
    hits = hits_matrix(rankings, relevant)
    if hits.shape[1] < DEPTH:
        hits = np.pad(hits, ((0, 0), (0, DEPTH - hits.shape[1])))
    n_relevant = np.array([len(r) for r in relevant])
    return {
        "mrr@10": mrr(hits, 10),
        "ndcg@10": ndcg(hits, n_relevant, 10),
        "recall@10": recall(hits, n_relevant, 10),
        "recall@50": recall(hits, n_relevant, DEPTH),
    }


def evaluate(queries: Sequence[EvalQuery], ranker: Callable[[str], list[str]]) -> dict[str, float]:
    """Score a ranker (query text -> book ids, best first) on a query set."""
    return score_rankings([ranker(q.query) for q in queries], [q.relevant for q in queries])


def evaluate_service(
    service: SearchService, queries: Sequence[EvalQuery], variants: Sequence[str] = VARIANTS
) -> dict[str, dict[str, float]]:
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

        out[variant] = {**evaluate(queries, ranker), "p50_ms": statistics.median(times)}
    return out


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per name, one column per metric (p50_ms too when present)."""
    width = max(len(name) for name in rows)
    columns = [c for c in (*METRICS, "p50_ms") if all(c in scores for scores in rows.values())]
    lines = [f"{'':<{width}}  " + "  ".join(f"{c:>9}" for c in columns)]
    for name, scores in rows.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{scores[c]:>9.4f}" for c in columns))
    return "\n".join(lines)


def holdout_catalog(src: Path, dst: Path, shelves: Iterable[str]) -> int:
    """Copy a books table without `shelves` (in lists and documents); returns books changed."""
    dropped = set(shelves)
    table = read_books(src)
    rows = table.to_pylist()
    changed = 0
    for row in rows:
        kept = [s for s in row["shelves"] or () if s not in dropped]
        if len(kept) != len(row["shelves"] or ()):
            changed += 1
            row["shelves"] = kept
            row["document"] = build_document(row["title"], row["authors"], kept, row["description"])
    dst.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), dst)
    return changed
