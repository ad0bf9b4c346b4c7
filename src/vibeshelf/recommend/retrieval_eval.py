"""Recall of each candidate source and of the merged proposals on the held-out interactions.

The split is `eval recs`' (holdout_split); ALS is fitted on its training part with the settings'
parameters and every source answers each sampled test user (Profile(user_id)) from that model.
Recall@N: the share of a user's held-out books among what was proposed, averaged over users.
"""

from __future__ import annotations

import logging
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.index.base import VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.recommend.artifacts import RecsModel, load_model, write_model
from vibeshelf.recommend.dataset import Interactions, load_training_data
from vibeshelf.recommend.evaluation import holdout_split
from vibeshelf.recommend.items import ItemTable
from vibeshelf.recommend.models.factors import PARAMS, fit_factors
from vibeshelf.recommend.neighbours import VectorLookup, vector_lookup
from vibeshelf.recommend.retrieval import Retrieval, SourceContext, build_retrieval
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.twostage.extra_sources import added_sources
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StoreError

log = logging.getLogger(__name__)

MERGED = "merged"


@dataclass(frozen=True)
class SourceRecall:
    """One source's (or the merged set's) recall over the sampled test users."""

    name: str
    n: int
    recall: float
    proposed: float
    answered: float
    recall_at_total: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass
class CandidateEvaluation:
    """Per-source and merged recall, and what they were measured on."""

    source: str
    data: str
    split: str
    settings: str
    rows: list[SourceRecall] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def merged(self) -> SourceRecall:
        return next(r for r in self.rows if r.name == MERGED)

    def verdict(self) -> str:
        merged = self.merged
        singles = [r for r in self.rows if r.name != MERGED]
        best = max(singles, key=lambda r: r.recall_at_total or 0.0)
        beaten = all(merged.recall > r.recall for r in singles)
        beaten_at_total = all(merged.recall > (r.recall_at_total or 0.0) for r in singles)
        return (
            f"merged recall@{merged.n} {merged.recall:.4f}: "
            f"{'beats' if beaten else 'does NOT beat'} every source at its own N; "
            f"{'beats' if beaten_at_total else 'does NOT beat'} every source given the whole "
            f"budget of {merged.n} (best: {best.name} {best.recall_at_total or 0.0:.4f})"
        )

    def table(self) -> str:
        total = self.merged.n
        lines = [
            f"candidate sources on {self.source}: {self.data}",
            self.split,
            self.settings,
            "",
            f"| source | N | recall@N | recall@{total} | proposed per user | answered |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            at_total = "-" if r.recall_at_total is None else f"{r.recall_at_total:.4f}"
            lines.append(
                f"| {r.name} | {r.n} | {r.recall:.4f} | {at_total} | {r.proposed:.1f} | "
                f"{r.answered:.1%} |"
            )
        return "\n".join([*lines, "", self.verdict(), f"measured in {self.seconds:.0f}s"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "data": self.data,
            "split": self.split,
            "settings": self.settings,
            "rows": [r.to_dict() for r in self.rows],
            "verdict": self.verdict(),
            "seconds": round(self.seconds, 1),
        }


def evaluate_candidates(
    settings: Settings, rec: RecommendSettings, source: str | None = None, progress: bool = False
) -> CandidateEvaluation:
    """Fit ALS on the split's training part, then score every configured source, those the
    two-stage pipeline adds (two-tower, another source's co-reads) and the merge."""
    started = time.perf_counter()
    data = load_training_data(settings, rec, source)
    train, test = holdout_split(data.interactions, rec)
    users = sample_test_users(test, rec.retrieval.eval_users, rec.seed)
    with tempfile.TemporaryDirectory(prefix="vibeshelf-candidates-") as tmp:
        model = fitted_model(train, data.items, rec, Path(tmp), progress)
        store, vector_of = book_vectors(settings)
        context = SourceContext(model, store, vector_of, train.strengths, rec.retrieval.anchors)
        retrieval = build_retrieval(rec.retrieval, context)
        retrieval.sources.extend(  # the sources the two-stage pipeline adds, where it adds them
            added_sources(settings, rec, model, data.source.name, data.source.item_space)
        )
        rows = score_sources(retrieval, train, test, users, progress)
    cfg = rec.retrieval
    evaluation = CandidateEvaluation(
        source=data.source.name,
        data=f"{train.shape[0]:,} users, {train.shape[1]:,} items, "
        f"{data.interactions.nnz:,} interactions",
        split=f"held out {rec.holdout_fraction:.0%} of each user with >= "
        f"{rec.min_user_interactions} interactions (seed {rec.seed}); recall over {len(users):,} "
        f"test users sampled (seed {rec.seed}) of {int((np.diff(test.strengths.indptr) > 0).sum()):,}",
        settings=f"ALS {', '.join(f'{k}={getattr(rec, k)}' for k in PARAMS)}; "
        f"sources {', '.join(f'{k}={v}' for k, v in cfg.sources.items())}; total {cfg.total}, "
        f"anchors {cfg.anchors}; vector store {settings.store.url}; {platform.machine()}",
        rows=rows,
    )
    evaluation.seconds = time.perf_counter() - started
    return evaluation


def sample_test_users(test: Interactions, most: int, seed: int) -> np.ndarray:
    """Up to `most` users with held-out items, drawn at random (seeded), in index order."""
    users = np.flatnonzero(np.diff(test.strengths.indptr) > 0)
    if len(users) > most:
        users = np.sort(np.random.default_rng(seed).choice(users, most, replace=False))
    return users


def fitted_model(
    train: Interactions, items: ItemTable, rec: RecommendSettings, tmp: Path, progress: bool
) -> RecsModel:
    """ALS fitted on `train`, written to and loaded from `tmp` (so it has its item ANN index)."""
    user_factors, item_factors = fit_factors(train, items.shelves, rec, progress=progress)
    model = RecsModel(
        users=train.users,
        items=items,
        user_factors=user_factors,
        item_factors=item_factors,
        seen=train.seen(),
        counts=train.item_counts(),
        metadata={
            "version": "candidates-eval",
            "params": {name: getattr(rec, name) for name in PARAMS},
        },
    )
    write_model(tmp, model, keep=1)
    return load_model(tmp)


def book_vectors(settings: Settings) -> tuple[VectorStore | None, VectorLookup | None]:
    """The served search index and the books' vectors, or (None, None) when either is missing."""
    try:
        embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
        store = open_store(settings)
    except (FileNotFoundError, StoreError) as exc:
        log.warning("no liked-vectors source: %s", exc)
        return None, None
    return store, vector_lookup(embeddings.ids, embeddings.vectors)


def score_sources(
    retrieval: Retrieval,
    train: Interactions,
    test: Interactions,
    users: np.ndarray,
    progress: bool = False,
) -> list[SourceRecall]:
    """Each source's recall at its N and at the merge's total, then the merged set's recall."""
    names = retrieval.names
    found = {name: np.zeros(len(users)) for name in [*names, MERGED]}
    found_at_total = {name: np.zeros(len(users)) for name in names}
    proposed = {name: np.zeros(len(users)) for name in [*names, MERGED]}
    answered = {name: np.zeros(len(users), bool) for name in [*names, MERGED]}
    relevant_counts = np.zeros(len(users))
    for row, user in enumerate(tqdm(users, desc="candidates", unit="user", disable=not progress)):
        profile = Profile(user_id=train.users[int(user)])
        relevant = {train.items[i] for i in test.user_items(int(user))}
        relevant_counts[row] = len(relevant)
        results = []
        for name, source, n in retrieval.sources:
            result = source.personalised(profile, n)
            results.append((name, result))
            ids = [c.item_id for c in result.candidates] if result else []
            found[name][row], proposed[name][row] = len(relevant.intersection(ids)), len(ids)
            answered[name][row] = result is not None
            whole = source.personalised(profile, retrieval.total)
            found_at_total[name][row] = (
                len(relevant.intersection(c.item_id for c in whole.candidates)) if whole else 0
            )
        merged = [p.item_id for p in retrieval.merge(results)]
        found[MERGED][row], proposed[MERGED][row] = len(relevant.intersection(merged)), len(merged)
        answered[MERGED][row] = bool(merged)
    rows = [
        SourceRecall(
            name,
            n,
            float((found[name] / relevant_counts).mean()),
            float(proposed[name].mean()),
            float(answered[name].mean()),
            float((found_at_total[name] / relevant_counts).mean()),
        )
        for name, _, n in retrieval.sources
    ]
    rows.append(
        SourceRecall(
            MERGED,
            retrieval.total,
            float((found[MERGED] / relevant_counts).mean()),
            float(proposed[MERGED].mean()),
            float(answered[MERGED].mean()),
        )
    )
    return rows
