"""Fit the BM25 field weights (search.lexical_fields) on training queries only.

The objective is a mode's mean over three training sets, each weighing the same: MRR@10 of the
written shelf paraphrases and of the written tip-of-the-tongue descriptions of
eval/train_queries.jsonl on the training catalog that `fit_rerank.py prepare` writes, and
nDCG@10 of eval/train_reader_queries.jsonl on the full catalog. The mode is `lexical` (BM25
alone, what the weights define; the shipped weights) or `hybrid+rerank` (the rerank weights as
shipped). Coordinate ascent over a grid of weights, from the whole document alone; it prints each
step and reads no evaluation set. Both data dirs need a lexical build with fields (`vibeshelf
index`); the weights found go in search.lexical_fields by hand.

  python eval/fit_lexical_fields.py TRAIN_DATA_DIR FULL_DATA_DIR
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from pathlib import Path

from vibeshelf.config.lexical import LexicalFieldWeights
from vibeshelf.search.evaluate import EvalQuery, evaluate_service, in_catalog, load_queries
from vibeshelf.search.service import SearchService
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

HERE = Path(__file__).parent
GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
PASSES = 2


def service_of(data_dir: Path) -> SearchService:
    """The data dir's search service, query vectors and per-field BM25 scores cached per query."""
    settings = Settings(data_dir=data_dir)
    settings.serve.query_log = False
    service = Runtime.load(settings).search
    lexical = service.lexical
    assert lexical is not None, f"{data_dir} has no lexical build"
    lexical.field_scores = functools.lru_cache(maxsize=None)(lexical.field_scores)  # type: ignore[method-assign]
    return service.with_settings(settings.search.model_copy(update={"query_cache_size": 4096}))


def training_sets(train_dir: Path, full_dir: Path) -> list[tuple[str, SearchService, list[EvalQuery], str]]:
    """(name, service, queries, metric) of each training set."""
    train, full = service_of(train_dir), service_of(full_dir)
    rows = [json.loads(line) for line in (HERE / "train_queries.jsonl").read_text(encoding="utf-8").splitlines()]
    written = [q for q, row in zip(load_queries(HERE / "train_queries.jsonl"), rows, strict=True)
               if row["source"] == "written"]
    return [
        ("train shelf", train, [q for q in written if q.holdout], "mrr@10"),
        ("train tip", train, [q for q in written if not q.holdout], "mrr@10"),
        ("train reader", full, in_catalog(load_queries(HERE / "train_reader_queries.jsonl"), full.catalog), "ndcg@10"),
    ]


def objective(
    sets: list[tuple[str, SearchService, list[EvalQuery], str]], variant: str
) -> Callable[[dict[str, float]], dict[str, float]]:
    """Field weights -> each set's metric under `variant` (a mode of `eval search`) and their mean."""

    def score(weights: dict[str, float]) -> dict[str, float]:
        out = {}
        for name, service, queries, metric in sets:
            service.settings = service.settings.model_copy(
                update={"lexical_fields": LexicalFieldWeights(**weights)}
            )
            out[name] = evaluate_service(service, queries, [variant])[variant].metrics[metric]
        out["mean"] = sum(out.values()) / len(sets)
        return out

    return score


def fit(train_dir: Path, full_dir: Path, variant: str) -> dict[str, float]:
    score = objective(training_sets(train_dir, full_dir), variant)
    weights = LexicalFieldWeights().model_dump()
    best = score(weights)
    print(f"start {weights}: {best}")
    for _ in range(PASSES):
        for name in weights:
            for value in GRID:
                trial = {**weights, name: value}
                if trial == weights or not any(trial.values()):
                    continue
                result = score(trial)
                if result["mean"] > best["mean"] + 1e-9:
                    weights, best = trial, result
                    print(f"{name}={value}: {result}")
    print(f"fitted {weights}: {best}")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("train_dir", type=Path, help="the training catalog's data dir (fit_rerank.py prepare)")
    parser.add_argument("full_dir", type=Path, help="the full catalog's data dir")
    parser.add_argument("--variant", choices=("lexical", "hybrid+rerank"), default="lexical",
                        help="the mode whose training metrics are fitted")
    args = parser.parse_args()
    fit(args.train_dir, args.full_dir, args.variant)


if __name__ == "__main__":
    main()
