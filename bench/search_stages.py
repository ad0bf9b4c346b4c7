"""Where the in-process search work goes: CPU milliseconds per search in each stage of the pipeline.

Times bench/search.py's 400 queries in one mode (query vectors cached, the query log off), each
stage wrapped with a CPU-time counter; prints the pass with the least total CPU of `--passes`.
Stages nest: "retrieve" holds the KNN, BM25 and description scans, "features" the similarities
it reads. The counters cost a few microseconds per stage, so the total reads a little high.

    python bench/search_stages.py                   # hybrid, data dir of the settings
    python bench/search_stages.py --mode vector --passes 5
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections.abc import Callable
from typing import Any

from search import queries


def timed(stages: dict[str, float], owner: Any, name: str, label: str) -> None:
    """Replace owner.name by a wrapper adding its CPU seconds to stages[label]."""
    inner: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            stages[label] = stages.get(label, 0.0) + time.process_time() - started

    object.__setattr__(owner, name, wrapper)  # frozen dataclasses (the reranker) too


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["hybrid", "vector", "lexical"], default="hybrid")
    parser.add_argument("--passes", type=int, default=3, help="passes over the queries; the cheapest is printed")
    args = parser.parse_args()

    import vibeshelf.search.service as service_module
    from vibeshelf.search.schemas import SearchParams
    from vibeshelf.serve.runtime import Runtime
    from vibeshelf.settings import Settings

    texts = queries(400)
    settings = Settings()
    settings.serve.query_log = False
    settings.search.query_cache_size = max(settings.search.query_cache_size, len(texts))
    runtime = Runtime.load(settings)
    search = runtime.search
    stages: dict[str, float] = {}
    wrapped = [
        (search, "search", "total"), (search.interpreter, "interpret", "interpret"),
        (search.retriever, "retrieve", "retrieve"), (search.store, "knn", "retrieve: knn"),
        (search.ranking, "rank", "retrieve: vector ranking"),
        (search.lexical, "scores", "retrieve: bm25 scores"), (search.lexical, "top", "retrieve: bm25 top"),
        (search.retriever.descriptions, "nearest", "retrieve: nearest descriptions"),
        (search.title_words, "title_only", "title-only check"), (search, "fused", "rrf fusion"),
        (search, "features", "rerank features"), (search.reranker, "reorder", "rerank reorder"),
        (search.exact, "promote", "exact matches"), (service_module, "demote", "demote"),
        (service_module, "series_in_order", "series in order"), (search.ranking, "dedupe", "dedupe"),
        (search.retriever, "similarities", "similarities"), (search.presenter, "result", "results"),
    ]
    for owner, name, label in wrapped:
        if owner is not None:
            timed(stages, owner, name, label)
    try:
        for text in texts:  # encodes each query once, into the cache
            search.search(SearchParams(q=text, mode=args.mode))
        best: dict[str, float] = {}
        for _ in range(args.passes):
            stages.clear()
            for text in texts:
                search.search(SearchParams(q=text, mode=args.mode))
            if not best or stages["total"] < best["total"]:
                best = {label: seconds * 1000 / len(texts) for label, seconds in stages.items()}
    finally:
        runtime.close()
    print(f"{args.mode} search work, CPU ms per search, cheapest of {args.passes} passes over "
          f"{len(texts)} queries (load average {os.getloadavg()[0]:.1f}):")
    for label, ms in sorted(best.items(), key=lambda item: -item[1]):
        print(f"  {label:32s} {ms:.3f}")


if __name__ == "__main__":
    main()
