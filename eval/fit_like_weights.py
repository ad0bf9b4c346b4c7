"""Fit the "books like X" weights (search.like_popularity_weight, search.like_genre_weight) on
training queries only.

Scores every pair of weights of a grid by hybrid+rerank nDCG@10 on the "books like" queries of
eval/train_reader_queries.jsonl, on the full catalog, with the content and shelf neighbours alone
and, with --co-reads, also with the data dir's recommender's co-read neighbours (as a server has
them); the objective is the mean over the conditions scored. It reads no evaluation set; the
weights found go in the settings by hand.

  python eval/fit_like_weights.py FULL_DATA_DIR [--co-reads]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from vibeshelf.search.evaluate import EvalQuery, evaluate_service, in_catalog
from vibeshelf.search.service import SearchService
from vibeshelf.serve.recommender import CoReaders, load_recommender
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

HERE = Path(__file__).parent
POPULARITY = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
GENRES = (0.0, 0.02, 0.05, 0.1)


def like_queries(path: Path) -> list[EvalQuery]:
    """The graded "books like" queries of a reader-queries JSONL."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        EvalQuery(r["query"], frozenset(r["relevant"]), grades={k: int(v) for k, v in r.get("grades", {}).items()})
        for r in rows
        if r.get("kind") == "like"
    ]


def score(service: SearchService, queries: list[EvalQuery], popularity: float, genres: float) -> float:
    """hybrid+rerank nDCG@10 of the queries under the two weights."""
    variant = service.with_settings(service.settings.model_copy(
        update={"like_popularity_weight": popularity, "like_genre_weight": genres}
    ))
    return evaluate_service(variant, queries, ("hybrid+rerank",))["hybrid+rerank"].metrics["ndcg@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--co-reads", action="store_true", help="also score with co-read neighbours")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    settings.serve.query_log = False
    runtime = Runtime.load(settings)
    service = runtime.search
    queries = in_catalog(like_queries(HERE / "train_reader_queries.jsonl"), runtime.catalog)
    conditions: dict[str, SearchService] = {"content": service}
    if args.co_reads:
        recommender = load_recommender(settings, runtime.store)
        assert recommender is not None, f"{args.data_dir} has no recommender"
        with_co_reads = service.with_settings(service.settings)
        with_co_reads.co_readers = CoReaders(recommender)
        conditions["co-reads"] = with_co_reads
    print(f"{len(queries)} training queries; popularity genres " + " ".join(conditions) + " mean")
    results = []
    for popularity, genres in itertools.product(POPULARITY, GENRES):
        scores = [score(s, queries, popularity, genres) for s in conditions.values()]
        mean = sum(scores) / len(scores)
        results.append((mean, popularity, genres))
        print(f"{popularity:.2f} {genres:.2f} " + " ".join(f"{s:.3f}" for s in scores) + f" {mean:.3f}")
    best = max(results)
    print(f"best: like_popularity_weight {best[1]}, like_genre_weight {best[2]} (mean {best[0]:.3f})")


if __name__ == "__main__":
    main()
