"""`vibeshelf eval recs`: the current and previous model versions and popularity, on one held-out split."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import current_version, load_metadata, previous_version
from vibeshelf.recommend.evaluate import (
    Scores,
    evaluate_params,
    holdout_split,
    popularity_scores,
    score_ranker,
    tune,
)
from vibeshelf.recommend.train import PARAMS, load_training_data, recs_root
from vibeshelf.settings import Settings
from vibeshelf.tables import key_values

log = logging.getLogger(__name__)

TARGET_RATIO = 1.2


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
    settings: Settings, rec: RecommendSettings, with_tuning: bool = False, progress: bool = False
) -> Evaluation:
    """Refit the current and previous versions' parameters on the split's training part and score them."""
    root = recs_root(settings)
    current = current_version(root)
    meta = load_metadata(root, current) if current else None
    source = meta["source"] if meta else rec.source
    data = load_training_data(settings, rec, source)
    interactions = data.interactions
    train, test = holdout_split(interactions, rec)
    genres = data.items.genres
    evaluation = Evaluation(
        source=source,
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
            train, test, genres, version_rec, progress=progress
        )
    _verdicts(evaluation, popularity, [label for label, _ in labelled])
    if with_tuning:
        evaluation.tuning = tune(interactions, genres, rec, progress=progress)
        best = evaluation.tuning[0][0]
        evaluation.verdicts.append(f"best on validation: {key_values(best)}")
        evaluation.rows[f"tuned {key_values(best)}"] = evaluate_params(
            train, test, genres, rec.model_copy(update=best)
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
