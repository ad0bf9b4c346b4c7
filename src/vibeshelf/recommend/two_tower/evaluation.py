"""Two-tower retrieval against ALS and popularity on the held-out split of recommend.evaluation."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vibeshelf import ranking_metrics
from vibeshelf.config.extras import require_extra
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.dataset import Interactions, load_training_data
from vibeshelf.recommend.evaluation import (
    ScoreFn,
    factor_scores,
    holdout_split,
    popularity_scores,
    top_lists,
)
from vibeshelf.recommend.models.factors import fit_factors
from vibeshelf.recommend.two_tower.features import catalog_item_inputs, history_weights
from vibeshelf.recommend.two_tower.user_tower import OnnxUserTower
from vibeshelf.settings import Settings

CUTOFFS = (50, 200)
K = 10
USER_BATCH = 512


@dataclass(frozen=True)
class RetrievalScores:
    """A retriever's quality on the test users, and how it treats items nobody read in training.

    cold_share_at_50: share of the retrieved top-50 items that had no training interaction;
    cold_recall_at_200: recall@200 over the held-out interactions on such items (None: none).
    """

    recall_at_50: float
    recall_at_200: float
    ndcg_at_10: float
    cold_share_at_50: float
    cold_recall_at_200: float | None
    users: int

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


def retrieval_scores(score_fn: ScoreFn, train: Interactions, test: Interactions) -> RetrievalScores:
    """Rank every item outside each test user's training items; score the top 200."""
    users = np.flatnonzero(np.diff(test.strengths.indptr) > 0)
    ranked = list(top_lists(score_fn, train, users, max(CUTOFFS)))
    relevant = [set(test.user_items(int(u)).tolist()) for u in users]
    hits = ranking_metrics.hits_matrix(ranked, relevant)
    n_relevant = np.array([len(r) for r in relevant])
    cold = train.item_counts() == 0
    cold_relevant = [{i for i in r if cold[i]} for r in relevant]
    n_cold = np.array([len(r) for r in cold_relevant])
    cold_hits = ranking_metrics.hits_matrix(ranked, cold_relevant)
    return RetrievalScores(
        recall_at_50=ranking_metrics.recall(hits, n_relevant, CUTOFFS[0]),
        recall_at_200=ranking_metrics.recall(hits, n_relevant, CUTOFFS[1]),
        ndcg_at_10=ranking_metrics.ndcg(hits, n_relevant, K),
        cold_share_at_50=float(np.mean([cold[r[: CUTOFFS[0]]].mean() for r in ranked])),
        cold_recall_at_200=float(cold_hits[:, : CUTOFFS[1]].sum() / n_cold.sum())
        if n_cold.sum()
        else None,
        users=len(users),
    )


def two_tower_scores(
    train: Interactions, content: np.ndarray, rec: RecommendSettings, progress: bool = False
) -> ScoreFn:
    """Fit on `train`, export the user tower to ONNX and score as served: onnxruntime user vectors
    (from each user's training history) against the item vectors."""
    require_extra("train", "two-tower evaluation")
    from vibeshelf.recommend.models.two_tower_train import (
        export_user_tower,
        fit_two_tower,
        item_vectors,
    )

    history = history_weights(train.strengths, rec.two_tower.implicit_weight)
    net = fit_two_tower(history, content, rec.two_tower, progress=progress)
    items = item_vectors(net)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "user_tower.onnx"
        export_user_tower(net, path)
        tower = OnnxUserTower(path)
    return lambda users: (
        np.vstack(
            [
                tower.vectors(history[users[i : i + USER_BATCH]].toarray())
                for i in range(0, len(users), USER_BATCH)
            ]
        )
        @ items.T
    )


def compare_retrieval(
    settings: Settings, rec: RecommendSettings, source: str | None = None, progress: bool = False
) -> dict[str, Any]:
    """Two-tower, ALS (`rec`'s parameters) and popularity on the same held-out split."""
    data = load_training_data(settings, rec, source)
    train, test = holdout_split(data.interactions, rec)
    inputs = catalog_item_inputs(
        data.items.ids, settings.embeddings_dir, settings.model.name, settings.books_path
    )
    users, items = fit_factors(train, data.items.shelves, rec, progress=progress)
    rows = {
        "popularity": retrieval_scores(popularity_scores(train), train, test),
        "als": retrieval_scores(factor_scores(users, items), train, test),
        "two-tower": retrieval_scores(
            two_tower_scores(train, inputs.content, rec, progress), train, test
        ),
    }
    return {
        "source": data.source.name,
        "train": train.nnz,
        "held_out": test.nnz,
        "items_without_training_interactions": int((train.item_counts() == 0).sum()),
        "rows": {label: scores.to_dict() for label, scores in rows.items()},
    }
