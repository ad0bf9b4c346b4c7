"""Offline evaluation (`vibeshelf eval recs`): leave-out split, ALS vs popularity, versions, tuning.

The split holds out a share of each active user's interactions (RecommendSettings.holdout_fraction
of users with at least min_user_interactions). Models are fitted on the rest and asked for each
test user's top 50 among every item of the model (training items excluded). Tuning splits the
training part again (validation), so the test part is never used to pick parameters.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from vibeshelf import ranking_metrics
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import (
    current_version,
    load_metadata,
    previous_version,
    recs_root,
)
from vibeshelf.recommend.dataset import Interactions, load_training_data
from vibeshelf.recommend.models.als import fit_als
from vibeshelf.recommend.models.factors import PARAMS, AlsSolver, fit_factors
from vibeshelf.settings import Settings
from vibeshelf.tables import key_values

log = logging.getLogger(__name__)

K = 10
RECALL_K = 50
BATCH_USERS = 1024
TARGET_RATIO = 1.2
ScoreFn = Callable[[np.ndarray], np.ndarray]

# The tuning grid (searched on the validation split): the neighbourhood of the defaults, reached by
# earlier, coarser rounds (factors 32-384, regularisation 1-400, alpha 10-200, implicit kept/dropped).
GRID: dict[str, list[Any]] = {
    "factors": [128, 256],
    "regularization": [100.0, 200.0],
    "alpha": [50.0, 100.0],
    "implicit_weight": [0.3, 0.5],
}


@dataclass(frozen=True)
class Scores:
    """Ranking quality over the test users."""

    hr_at_10: float
    ndcg_at_10: float
    recall_at_50: float
    coverage_at_10: float
    users: int

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


def holdout_split(
    data: Interactions, rec: RecommendSettings, seed_offset: int = 0
) -> tuple[Interactions, Interactions]:
    return data.split(rec.holdout_fraction, rec.min_user_interactions, rec.seed + seed_offset)


def score_ranker(score_fn: ScoreFn, train: Interactions, test: Interactions) -> Scores:
    """Rank every item for each test user with `score_fn` (user indices -> users x items scores)."""
    users = np.flatnonzero(np.diff(test.strengths.indptr) > 0)
    ranked = list(top_lists(score_fn, train, users, RECALL_K))
    relevant = [set(test.user_items(int(u)).tolist()) for u in users]
    n_relevant = np.array([len(r) for r in relevant])
    hits = ranking_metrics.hits_matrix(ranked, relevant)
    return Scores(
        hr_at_10=ranking_metrics.hit_rate(hits, K),
        ndcg_at_10=ranking_metrics.ndcg(hits, n_relevant, K),
        recall_at_50=ranking_metrics.recall(hits, n_relevant, RECALL_K),
        coverage_at_10=ranking_metrics.coverage(ranked, K, train.shape[1]),
        users=len(users),
    )


def top_lists(
    score_fn: ScoreFn, train: Interactions, users: np.ndarray, k: int
) -> Iterator[list[int]]:
    """Each user's k best items outside their training items; ties in item order."""
    seen = train.strengths
    for start in range(0, len(users), BATCH_USERS):
        batch = users[start : start + BATCH_USERS]
        scores = np.asarray(score_fn(batch), dtype=np.float64)
        rows = seen[batch]
        scores[np.repeat(np.arange(len(batch)), np.diff(rows.indptr)), rows.indices] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for row, cand in zip(scores, top, strict=True):
            threshold = row[cand].min()
            keep = np.flatnonzero(row >= threshold)
            yield keep[np.lexsort((keep, -row[keep]))][:k].tolist()


def popularity_scores(train: Interactions) -> ScoreFn:
    counts = train.item_counts().astype(np.float64)
    return lambda users: np.broadcast_to(counts, (len(users), len(counts))).copy()


def factor_scores(user_factors: np.ndarray, item_factors: np.ndarray) -> ScoreFn:
    return lambda users: user_factors[users] @ item_factors.T


def evaluate_params(
    train: Interactions,
    test: Interactions,
    genres: list[list[str]],
    rec: RecommendSettings,
    progress: bool = False,
    solve: AlsSolver = fit_als,
) -> Scores:
    """Fit with `rec` (and `solve`) on train, score on test."""
    users, items = fit_factors(train, genres, rec, progress=progress, solve=solve)
    return score_ranker(factor_scores(users, items), train, test)


def holdout_metrics(
    data: Interactions,
    genres: list[list[str]],
    rec: RecommendSettings,
    progress: bool = False,
    solve: AlsSolver = fit_als,
) -> dict[str, dict[str, float]]:
    """ALS with `rec` (fitted by `solve`) and the popularity baseline on the test split."""
    train, test = holdout_split(data, rec)
    return {
        "als": evaluate_params(train, test, genres, rec, progress, solve).to_dict(),
        "popularity": score_ranker(popularity_scores(train), train, test).to_dict(),
    }


def tune(
    data: Interactions,
    genres: list[list[str]],
    rec: RecommendSettings,
    grid: dict[str, list[Any]] | None = None,
    progress: bool = False,
) -> list[tuple[dict[str, Any], Scores]]:
    """Every grid point scored on the validation split (carved from the training part), best first."""
    train, _ = holdout_split(data, rec)
    fit, validation = holdout_split(train, rec, seed_offset=1)
    grid = grid or GRID
    points = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    results = []
    for point in tqdm(points, desc="tuning", unit="fit", disable=not progress):
        scores = evaluate_params(fit, validation, genres, rec.model_copy(update=point))
        log.info("validation %s: %s", point, scores.to_dict())
        results.append((point, scores))
    return sorted(results, key=lambda r: -r[1].ndcg_at_10)


@dataclass
class Evaluation:
    """Scores per row label, in display order, and what they were measured on."""

    source: str
    data: str
    split: str
    rows: dict[str, Scores] = field(default_factory=dict)
    verdicts: list[str] = field(default_factory=list)
    tuning: list[tuple[dict[str, Any], Scores]] = field(default_factory=list)

    def table(self) -> str:
        lines = [
            f"source {self.source}: {self.data}",
            self.split,
            "",
            "| model | HR@10 | NDCG@10 | recall@50 | coverage@10 |",
            "|---|---|---|---|---|",
        ]
        for label, s in self.rows.items():
            lines.append(
                f"| {label} | {s.hr_at_10:.4f} | {s.ndcg_at_10:.4f} | {s.recall_at_50:.4f} | "
                f"{s.coverage_at_10:.4f} |"
            )
        if self.tuning:
            lines += [
                "",
                "validation split (tuning), best first:",
                "| params | HR@10 | NDCG@10 | recall@50 |",
                "|---|---|---|---|",
            ]
            for point, s in self.tuning:
                lines.append(
                    f"| {key_values(point)} | {s.hr_at_10:.4f} | {s.ndcg_at_10:.4f} | "
                    f"{s.recall_at_50:.4f} |"
                )
        return "\n".join([*lines, "", *self.verdicts])

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "data": self.data,
            "split": self.split,
            "rows": {label: s.to_dict() for label, s in self.rows.items()},
            "verdicts": self.verdicts,
            "tuning": [{"params": p, "validation": s.to_dict()} for p, s in self.tuning],
        }


def _version_settings(rec: RecommendSettings, metadata: dict[str, Any]) -> RecommendSettings:
    params = {k: v for k, v in metadata.get("params", {}).items() if k in PARAMS}
    return rec.model_copy(update={**params, "seed": metadata.get("seed", rec.seed)})


def evaluate_versions(
    settings: Settings,
    rec: RecommendSettings,
    with_tuning: bool = False,
    progress: bool = False,
    source: str | None = None,
) -> Evaluation:
    """Refit the current and previous versions' parameters on the split's training part and score them.

    On `source` when given, else on the current version's source (else the settings').
    """
    root = recs_root(settings)
    current = current_version(root)
    meta = load_metadata(root, current) if current else None
    source = source or (meta["source"] if meta else rec.source)
    data = load_training_data(settings, rec, source)
    interactions = data.interactions
    train, test = holdout_split(interactions, rec)
    shelves = data.items.shelves
    evaluation = Evaluation(
        source=data.source.name,
        data=f"{interactions.shape[0]:,} users, {interactions.shape[1]:,} items, "
        f"{interactions.nnz:,} interactions",
        split=f"held out {rec.holdout_fraction:.0%} of each user with >= {rec.min_user_interactions} "
        f"interactions (seed {rec.seed}): {test.nnz:,} interactions of "
        f"{int((test.strengths.getnnz(axis=1) > 0).sum()):,} test users",
    )
    popularity = score_ranker(popularity_scores(train), train, test)
    evaluation.rows["popularity baseline"] = popularity
    labelled: list[tuple[str, dict[str, Any] | None]] = (
        [(f"{current} (current)", meta)] if meta else [("settings (no model trained yet)", None)]
    )
    previous = previous_version(root, current) if current else None
    if previous:
        prev_meta = load_metadata(root, previous)
        if prev_meta["source"] == source:
            labelled.append((f"{previous} (previous)", prev_meta))
        else:
            evaluation.verdicts.append(
                f"previous version {previous} was trained on {prev_meta['source']}; not compared"
            )
    for label, metadata in labelled:
        version_rec = _version_settings(rec, metadata) if metadata else rec
        evaluation.rows[label] = evaluate_params(
            train, test, shelves, version_rec, progress=progress
        )
    _verdicts(evaluation, popularity, [label for label, _ in labelled])
    if with_tuning:
        evaluation.tuning = tune(interactions, shelves, rec, progress=progress)
        best = evaluation.tuning[0][0]
        evaluation.verdicts.append(f"best on validation: {key_values(best)}")
        evaluation.rows[f"tuned {key_values(best)}"] = evaluate_params(
            train, test, shelves, rec.model_copy(update=best)
        )
    return evaluation


def _verdicts(evaluation: Evaluation, popularity: Scores, labels: list[str]) -> None:
    first = evaluation.rows[labels[0]]
    ratio = first.ndcg_at_10 / popularity.ndcg_at_10 if popularity.ndcg_at_10 else float("inf")
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    evaluation.verdicts.append(
        f"NDCG@10 {labels[0]} / popularity: {ratio:.2f}x (target >= {TARGET_RATIO}x: {met})"
    )
    if len(labels) > 1:
        second = evaluation.rows[labels[1]]
        delta = first.ndcg_at_10 - second.ndcg_at_10
        if abs(delta) < 1e-9:
            evaluation.verdicts.append("current and previous versions score the same NDCG@10")
        else:
            winner, loser = (labels[0], labels[1]) if delta > 0 else (labels[1], labels[0])
            evaluation.verdicts.append(f"better: {winner} over {loser} by {abs(delta):.4f} NDCG@10")
