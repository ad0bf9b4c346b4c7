"""Fit the rerank weights on training queries disjoint from the evaluation sets.

  prepare: training queries written like the evaluation sets, on other shelves and books
           (eval/train_shelf_vibes.tsv, eval/train_more_vibes.tsv, eval/train_tip_of_tongue.tsv),
           plus generated ones: shelf names (shelves none of the evaluation sets use) and loose
           blurb excerpts (books not in eval/tip_of_tongue.jsonl). Writes eval/train_queries.jsonl
           and a catalog without any training shelf (embed and index it like any data dir).
  fit:     collect the fused top candidates and their features for every training query on
           that data dir. On the written queries, compare by 5-fold cross-validated MRR@10 a
           weighted logistic regression and a coordinate ascent on MRR@10 started from it (the
           two kinds of query, shelf and tip of the tongue, weigh the same, and so does each
           query within a kind); refit the better on all of them and write
           src/vibeshelf/search/rerank_weights.json. The generated queries are scored as a
           second check only: they read unlike the evaluation sets.
  ceiling: on an evaluation set, MRR@10 of weights fitted on that set itself, beside the shipped
           weights, the vector + BM25 reciprocal ranks and the vector order: what the features allow.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
from build_sets import rows as rows_of
from build_sets import shelf_holdout
from sklearn.linear_model import LogisticRegression

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.index.filters import Filter
from vibeshelf.search.evaluate import EvalQuery, holdout_catalog, load_queries
from vibeshelf.search.rerank import FEATURES, WEIGHTS_FILE, Reranker
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

HERE = Path(__file__).parent
TRAIN = HERE / "train_queries.jsonl"
SEED = 7
N_SHELVES = 80
N_BLURBS = 160


def prepare(full: Path, out_dir: Path, train: Path = TRAIN) -> None:
    """Write the training queries to `train` and the catalog without their shelves to out_dir."""
    rng = random.Random(SEED)
    catalog = BookCatalog.load(full)
    eval_shelves = {s for q in load_queries(HERE / "shelf_vibes.jsonl") for s in q.holdout}
    eval_books = {b for q in load_queries(HERE / "tip_of_tongue.jsonl") for b in q.relevant}
    shelves = sorted(s for s, n in catalog.shelf_counts.items() if 30 <= n <= 500 and s not in eval_shelves)
    written = rows_of(HERE / "train_shelf_vibes.tsv")
    picked = [s for s, _ in written]
    picked += rng.sample([s for s in shelves if s not in picked], N_SHELVES)
    # Some randomly picked shelves also have a written paraphrase (eval/train_more_vibes.tsv).
    more = dict(rows_of(HERE / "train_more_vibes.tsv"))
    if set(more) - set(picked):
        raise SystemExit(f"train_more_vibes.tsv names shelves not picked: {sorted(set(more) - set(picked))}")
    queries = written + [(s, more.get(s, shelf_phrase(s))) for s in picked[len(written) :]]
    # Each shelf goes with its word-order twins, as in the evaluation set (eval/build_sets.py).
    holdouts = [shelf_holdout(catalog, s) for s, _ in queries]
    rows = [{"query": q, "relevant": relevant, "holdout": held,
             "source": "written" if n < len(written) or s in more else "generated"}
            for n, ((s, q), (held, relevant)) in enumerate(zip(queries, holdouts, strict=True))]
    rows += [{"query": q, "relevant": [book_id], "source": "written"}
             for book_id, q in rows_of(HERE / "train_tip_of_tongue.tsv")]
    eval_books |= {r["relevant"][0] for r in rows[len(queries) :]}
    with_blurbs = sorted(
        (b for b in catalog if b.description and len(b.description) > 300 and b.book_id not in eval_books),
        key=lambda b: b.book_id,
    )
    for book in rng.sample(with_blurbs, N_BLURBS):
        rows.append({"query": blurb_query(book.title, book.description or "", rng),
                     "relevant": [book.book_id], "source": "generated"})
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    held_out = {s for held, _ in holdouts for s in held}
    changed = holdout_catalog(full, out_dir / "catalog" / "books.parquet", held_out)
    print(f"{len(rows)} training queries; {changed} books lost a training shelf")


def blurb_query(title: str, blurb: str, rng: random.Random) -> str:
    """A loose recollection of a blurb: a window of it, title words and a third of the rest dropped.
    A word goes when any part of it is a title word ("Pilot's" for The Pilot's Wife, "'lost")."""
    title_words = set(re.findall(r"\w+", title.lower()))
    words = [w for w in re.findall(r"[\w']+", blurb) if title_words.isdisjoint(re.findall(r"\w+", w.lower()))]
    start = rng.randrange(max(1, len(words) - 40))
    return " ".join(w for w in words[start : start + 40] if rng.random() > 1 / 3)


# (features, labels, kind): kind is "shelf" or "tip", weighed equally whatever their counts.
Data = list[tuple[np.ndarray, np.ndarray, str]]


def fused_candidates(data_dir: Path, queries: list[EvalQuery]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query, the rerank features and relevance labels of the fused top candidates."""
    settings = Settings(data_dir=data_dir)
    settings.serve.query_log = False
    service = Runtime.load(settings).search
    out = []
    for q in queries:
        found = service.retrieve(q.query, "hybrid", Filter(), settings.search.candidates)
        ordered, features = service.rerank_candidates(found)
        out.append((features, np.array([i in q.relevant for i, _ in ordered[: len(features)]])))
    return out


def collect(data_dir: Path) -> dict[str, Data]:
    """Features and labels of the fused top candidates, by query source (queries with a hit only)."""
    sources = [json.loads(line)["source"] for line in TRAIN.read_text(encoding="utf-8").splitlines()]
    queries = load_queries(TRAIN)
    out: dict[str, Data] = {"written": [], "generated": []}
    for q, source, (features, labels) in zip(
        queries, sources, fused_candidates(data_dir, queries), strict=True
    ):
        if labels.any():
            out[source].append((features, labels, "shelf" if q.holdout else "tip"))
    return out


def mrr(weights: np.ndarray, data: Data) -> float:
    """MRR@10 of the reranked lists: the mean over query kinds of each kind's mean."""
    by_kind: dict[str, list[float]] = {}
    for x, y, kind in data:
        hits = y[np.argsort(-(x @ weights), kind="stable")][:10]
        by_kind.setdefault(kind, []).append(1.0 / (hits.argmax() + 1) if hits.any() else 0.0)
    return float(np.mean([np.mean(v) for v in by_kind.values()]))


def fit_logistic(data: Data) -> np.ndarray:
    """Pointwise logistic regression; every query kind, and every query within it, weighs the same."""
    x = np.vstack([f for f, _, _ in data])
    y = np.concatenate([labels for _, labels, _ in data])
    kinds = Counter(kind for _, _, kind in data)
    weight = np.concatenate([
        np.where(ls, 1 / ls.sum(), 1 / max(1, (~ls).sum())) / kinds[kind] for _, ls, kind in data
    ])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=weight)
    return model.coef_[0]


def fit_coordinate_ascent(data: Data, start: np.ndarray) -> np.ndarray:
    weights = start / np.abs(start).max()
    steps = np.array([-1.0, -0.5, -0.2, -0.1, -0.05, 0.05, 0.1, 0.2, 0.5, 1.0])
    best = mrr(weights, data)
    for _ in range(4):
        for j in range(len(weights)):
            for step in steps:
                trial = weights.copy()
                trial[j] += step
                score = mrr(trial, data)
                if score > best + 1e-9:
                    best, weights = score, trial
    return weights


FOLDS = 5


def cross_validated(method: str, data: Data) -> float:
    """MRR@10 on held-out folds of the training queries (fit on the other folds)."""
    scores = []
    for fold in range(FOLDS):
        train = [d for i, d in enumerate(data) if i % FOLDS != fold]
        test = [d for i, d in enumerate(data) if i % FOLDS == fold]
        scores.append(mrr(METHODS[method](train), test))
    return float(np.mean(scores))


METHODS = {
    "logistic": fit_logistic,
    "coordinate-ascent": lambda data: fit_coordinate_ascent(data, fit_logistic(data)),
}


def fit(data_dir: Path) -> None:
    data = collect(data_dir)
    written = data["written"]
    cv = {name: cross_validated(name, written) for name in METHODS}
    cv["rrf"] = mrr(Reranker.fused().weights, written)  # nothing to fit
    for name, score in cv.items():
        print(f"{FOLDS}-fold cross-validated MRR@10 on the written queries: {name:<18} {score:.4f}")
    name = max(METHODS, key=cv.__getitem__)
    weights = METHODS[name](written)
    print(f"{name} on all written queries: {np.round(weights, 3).tolist()}; "
          f"training MRR@10 written {mrr(weights, written):.4f}, generated {mrr(weights, data['generated']):.4f}")
    reranker = Reranker(weights, 0.0)
    WEIGHTS_FILE.write_text(reranker.to_json(
        method=name, training_queries=len(written), cross_validated_mrr_at_10=round(cv[name], 4),
        rrf_mrr_at_10=round(cv["rrf"], 4), fitted_by="eval/fit_rerank.py",
    ))
    print(f"wrote {WEIGHTS_FILE} ({name})")


def ceiling(data_dir: Path, queries_file: Path) -> None:
    """How far a linear rerank of these features could go on an evaluation set: weights fitted on
    that very set (never shipped), against the shipped weights, the vector and BM25 reciprocal
    ranks summed, and the vector order.
    Queries without a relevant book in the fused top candidates count as 0, as in `eval search`."""
    data: Data = [(x, y, "all") for x, y in fused_candidates(data_dir, load_queries(queries_file))]
    with_hit = [d for d in data if d[1].any()]
    share = len(with_hit) / len(data)
    vector_order = np.array([float(f == "vector_rr") for f in FEATURES])
    rows = {
        "vector order of the fused candidates": vector_order,
        "vector + BM25 reciprocal ranks": Reranker.fused().weights,
        "shipped weights": Reranker.load().weights,
        "fitted on this set (a ceiling)": fit_coordinate_ascent(with_hit, fit_logistic(with_hit)),
    }
    print(f"{queries_file.name}: {len(data)} queries, {len(with_hit)} with a relevant book in the fused top")
    for name, weights in rows.items():
        print(f"MRR@10 {name:<38} {mrr(weights, with_hit) * share:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("books", type=Path, help="books.parquet of the full catalog")
    p.add_argument("out_dir", type=Path, help="data dir to receive the training catalog")
    f = sub.add_parser("fit")
    f.add_argument("data_dir", type=Path, help="the prepared data dir, embedded and indexed")
    c = sub.add_parser("ceiling", help="the best MRR@10 any weights reach on an evaluation set")
    c.add_argument("data_dir", type=Path, help="the data dir the set is scored on, embedded and indexed")
    c.add_argument("queries", type=Path, help="an evaluation JSONL (eval/shelf_vibes.jsonl, ...)")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.books, args.out_dir)
    elif args.step == "ceiling":
        ceiling(args.data_dir, args.queries)
    else:
        fit(args.data_dir)


if __name__ == "__main__":
    main()
