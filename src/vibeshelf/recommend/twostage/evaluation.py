"""Fit and evaluate the ranker (`vibeshelf train ranker`): ALS vs two-stage with and without rules.

On the leave-out split of `eval recs`, ALS is fitted on the training part and the served candidate
stage (the merged sources, `candidate_stage`) is built over it, and the features come from a Feast
store of that training part (`training_store`, read point in time); readers with held-out
books are halved: the ranker is fitted (and early-stopped) on one half only, and every row of the
table is scored on the other half. A paired bootstrap over those readers gives the interval of
two-stage with rules minus ALS in NDCG@10. Last, the served feature store is materialized from
the whole source, so serving reads the features the ranker was trained on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from vibeshelf import ranking_metrics
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.dataset import Interactions, load_training_data
from vibeshelf.recommend.features.definitions import view_versions
from vibeshelf.recommend.features.materialize import materialize, read_rows
from vibeshelf.recommend.features.repo import FeatureRepo
from vibeshelf.recommend.retrieval import Proposal, SourceContext
from vibeshelf.recommend.retrieval_eval import book_vectors
from vibeshelf.recommend.twostage.books import BookFacts, book_facts
from vibeshelf.recommend.twostage.boosts import apply_boosts, make_boosts
from vibeshelf.recommend.twostage.candidates import ALS, ITEM_ITEM, candidate_stage
from vibeshelf.recommend.twostage.dataset import labelled_frame, split_model, split_readers
from vibeshelf.recommend.twostage.extra_sources import added_sources
from vibeshelf.recommend.twostage.features import FEATURES_VERSION, feature_names
from vibeshelf.recommend.twostage.ranked import ListContext, Ranked
from vibeshelf.recommend.twostage.ranker import Ranker, fit_ranker, write_ranker
from vibeshelf.recommend.twostage.ranker_record import importance_shares, ranker_root
from vibeshelf.recommend.twostage.rules import MaxPerGenreRule, apply_rules, make_rules
from vibeshelf.recommend.twostage.training_features import HistoricalFeatures, training_store
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)

K = 10
RECALL_K = 50
ROUNDS = 1000
TARGET_RATIO = 1.10
GENRE_CAP = MaxPerGenreRule(limit=3, window=5)
BY_SOURCE = {"ALS": ALS, "item-item": ITEM_ITEM}
MERGED = "candidates (merged, unranked)"


@dataclass(frozen=True)
class ListScores:
    """Quality of one row's lists over the evaluation readers."""

    hr_at_10: float
    ndcg_at_10: float
    recall_at_50: float
    coverage_at_10: float
    genre_violations: int
    relaxed_lists: int


@dataclass
class RankerReport:
    """The table, the interval, the importances, and what was measured on."""

    source: str
    readers: dict[str, int]
    rows: dict[str, ListScores] = field(default_factory=dict)
    interval: tuple[float, float] = (0.0, 0.0)
    importances: dict[str, float] = field(default_factory=dict)
    version: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        als = self.rows["ALS"].ndcg_at_10
        return self.rows["two-stage + rules"].ndcg_at_10 / als if als else float("inf")

    def table(self) -> str:
        lines = [
            f"source {self.source}: ranker {self.version}; readers {self.readers}",
            "",
            "| list | HR@10 | NDCG@10 | recall@50 | coverage@10 | genre violations | relaxed |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, s in self.rows.items():
            lines.append(
                f"| {label} | {s.hr_at_10:.4f} | {s.ndcg_at_10:.4f} | {s.recall_at_50:.4f} | "
                f"{s.coverage_at_10:.4f} | {s.genre_violations} | {s.relaxed_lists} |"
            )
        low, high = self.interval
        met = "met" if self.ratio >= TARGET_RATIO else "NOT met"
        lines += [
            "",
            f"NDCG@10 two-stage + rules / ALS: {self.ratio:.3f}x (target >= {TARGET_RATIO}x: {met}); "
            + f"difference 95% bootstrap interval [{low:+.4f}, {high:+.4f}]",
            "feature importances (gain, share): "
            + ", ".join(f"{name} {share:.3f}" for name, share in self.importances.items()),
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": round(self.ratio, 4)}


def train_and_evaluate(
    settings: Settings, rec: RecommendSettings, source: str | None = None, progress: bool = False
) -> tuple[Ranker, RankerReport]:
    """Fit the ranker on one half of the held-out readers, score every list on the other, write it."""
    ranking = rec.ranking
    clock = time.perf_counter()
    data = load_training_data(settings, rec, source)
    model, train, test = split_model(data, rec, progress)
    seconds = {"als_fit": time.perf_counter() - clock}
    readers = split_readers(test, ranking.train_readers, ranking.eval_readers, rec.seed)
    facts = book_facts(BookCatalog.load(settings.books_path))
    clock = time.perf_counter()
    store, vector_of = book_vectors(settings)
    context = SourceContext(model, store, vector_of, train.strengths, rec.retrieval.anchors)
    extra = added_sources(settings, rec, model, data.source.name, data.source.item_space)
    stage = candidate_stage(rec.retrieval, context, ranking.neighbours, extra)
    seconds["candidate_stage_build"] = time.perf_counter() - clock
    clock = time.perf_counter()
    repo = FeatureRepo(settings.features_dir, rec.feature_store)
    _, rows = read_rows(settings, rec.events_url, data.source.name)
    with (
        training_store(settings, repo, train, rows) as feast_store,
        threadpool_limits(limits=1, user_api="blas"),  # one reader at a time, as served
    ):
        features = HistoricalFeatures(feast_store, stage.names)
        fit_rows, _ = labelled_frame(stage, features, test, readers.train, progress)
        valid_rows, _ = labelled_frame(stage, features, test, readers.valid, progress)
        eval_rows, eval_props = labelled_frame(stage, features, test, readers.evaluate, progress)
    seconds["candidates_and_features"] = time.perf_counter() - clock
    clock = time.perf_counter()
    ranker = fit_ranker(
        fit_rows, valid_rows, feature_names(stage.names), FEATURES_VERSION, ranking.ranker, rec.seed
    )
    ranker.metadata["feature_views"] = view_versions()
    ranker.metadata["sources"] = stage.names
    seconds["ranker_fit"] = time.perf_counter() - clock
    scores = ranker.predict(eval_rows)
    report = RankerReport(
        source=data.source.name,
        readers={
            "ranker_train": len(readers.train),
            "ranker_valid": len(readers.valid),
            "evaluate": len(readers.evaluate),
        },
        seconds={k: round(v, 1) for k, v in seconds.items()},
    )
    lists = _lists(eval_props, scores, facts, train, readers.evaluate, rec, settings)
    relevant = [_held(test, int(u)) for u in readers.evaluate]
    per_user = {}
    for label, (ranked, relaxed) in lists.items():
        report.rows[label], per_user[label] = _score(
            ranked, relevant, relaxed, facts, test.shape[1]
        )
    report.interval = _paired_interval(per_user["two-stage + rules"], per_user["ALS"], rec.seed)
    report.importances = importance_shares(ranker.metadata["importances_gain"])
    ranker.metadata["metrics"] = {label: asdict(s) for label, s in report.rows.items()} | {
        "ndcg_ratio_vs_als": round(report.ratio, 4)
    }
    ranker.metadata["trained_on"] = {
        "source": report.source,
        "readers": report.readers,
        "als_params": {"factors": rec.factors, "regularization": rec.regularization},
        "split": f"holdout {rec.holdout_fraction} seed {rec.seed}",
    }
    write_ranker(ranker_root(settings), ranker, ranking.keep_versions)
    report.version = ranker.version
    clock = time.perf_counter()
    materialize(settings, repo, rec.events_url, data.source.name)  # what serving reads
    report.seconds["materialize"] = round(time.perf_counter() - clock, 1)
    return ranker, report


def _lists(
    proposals: list[list[Proposal]],
    scores: np.ndarray,
    facts: dict[str, BookFacts],
    train: Interactions,
    users: np.ndarray,
    rec: RecommendSettings,
    settings: Settings,
) -> dict[str, tuple[list[list[str]], list[bool]]]:
    """Each row's list per evaluation reader (its books read: the training part), and whether
    rules relaxed on it."""
    rules = make_rules(rec.ranking.rules)
    boosts = make_boosts(rec.ranking.boosts, settings.data_dir)
    blank = BookFacts()
    out: dict[str, tuple[list[list[str]], list[bool]]] = {
        name: ([], []) for name in (*BY_SOURCE, MERGED, "two-stage", "two-stage + rules")
    }
    start = 0
    for props, user in zip(proposals, users, strict=True):
        own = scores[start : start + len(props)]
        start += len(props)
        for label, source in BY_SOURCE.items():
            by_source = sorted(
                (p for p in props if source in p.ranks), key=lambda p: p.ranks[source]
            )
            out[label][0].append([p.item_id for p in by_source[:RECALL_K]])
            out[label][1].append(False)
        out[MERGED][0].append([p.item_id for p in props[:RECALL_K]])
        out[MERGED][1].append(False)
        order = np.argsort(-own, kind="stable")  # rules see every candidate, as in serving
        out["two-stage"][0].append([props[i].item_id for i in order[:RECALL_K]])
        out["two-stage"][1].append(False)
        ranked = [
            Ranked(props[i].item_id, float(own[i]), facts.get(props[i].item_id, blank))
            for i in order
        ]
        read = [train.items[i] for i in train.user_items(int(user))]
        context = ListContext.of(K, read, facts)
        outcome = apply_rules(apply_boosts(ranked, boosts, context), rules, context)
        out["two-stage + rules"][0].append([r.item_id for r in outcome.items[:RECALL_K]])
        out["two-stage + rules"][1].append(bool(outcome.relaxations))
    return out


def _held(test: Interactions, user: int) -> set[str]:
    return {test.items[i] for i in test.user_items(user)}


def _score(
    lists: list[list[str]],
    relevant: list[set[str]],
    relaxed: list[bool],
    facts: dict[str, BookFacts],
    n_items: int,
) -> tuple[ListScores, np.ndarray]:
    hits = ranking_metrics.hits_matrix(lists, relevant)
    n_relevant = np.array([len(r) for r in relevant])
    per_user = ranking_metrics.graded_ndcg(hits.astype(float), [[1.0] * n for n in n_relevant], K)
    blank = BookFacts()
    violations = sum(
        GENRE_CAP.violated([Ranked(i, 0.0, facts.get(i, blank)) for i in items[:K]])
        for items in lists
    )
    scores = ListScores(
        hr_at_10=round(ranking_metrics.hit_rate(hits, K), 5),
        ndcg_at_10=round(float(per_user.mean()), 5),
        recall_at_50=round(ranking_metrics.recall(hits, n_relevant, RECALL_K), 5),
        coverage_at_10=round(ranking_metrics.coverage(lists, K, n_items), 5),
        genre_violations=int(violations),
        relaxed_lists=int(sum(relaxed)),
    )
    return scores, per_user


def _paired_interval(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, float]:
    """95% bootstrap interval of mean(a - b), resampling readers."""
    diff = a - b
    rows = np.random.default_rng(seed).integers(0, len(diff), (ROUNDS, len(diff)))
    means = diff[rows].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
