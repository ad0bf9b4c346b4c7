"""Candidate proposals (item, each proposing source's score and rank), and an ALS + item-item retriever.

The retriever is the stand-in first stage the ranker is trained and evaluated with: ALS's best
items, and items whose factors are closest (mean cosine) to the reader's history, merged with
every proposing source kept. Any first stage that returns Proposals plugs into the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vibeshelf.recommend.artifacts import RecsModel

ALS = "als"
ITEM_ITEM = "item_item"
SOURCES = (ALS, ITEM_ITEM)


@dataclass(frozen=True)
class Proposal:
    """A candidate book and, per source that proposed it, its score and 1-based rank."""

    item_id: str
    scores: Mapping[str, float] = field(default_factory=dict)
    ranks: Mapping[str, int] = field(default_factory=dict)


class Retrieve(Protocol):
    """The first stage: a reader's candidates."""

    def __call__(self, user_id: str) -> list[Proposal]: ...


class AlsItemItemRetriever:
    """ALS top n and item-item top n over a model's factors, merged; the reader's books excluded."""

    def __init__(self, model: RecsModel, n: int) -> None:
        self.model = model
        self.n = n

    def __call__(self, user_id: str) -> list[Proposal]:
        user = self.model.user_index.get(user_id)
        return [] if user is None else self.propose(np.array([user]))[0]

    def propose(self, users: np.ndarray) -> list[list[Proposal]]:
        """Each user's merged proposals, ALS's order first then item-item's new ones."""
        seen = self.model.seen[users]
        unit = self.model.unit_items
        history = np.maximum(np.diff(seen.indptr), 1)[:, None]
        per_source = {
            ALS: self.model.user_factors[users] @ self.model.item_factors.T,
            ITEM_ITEM: np.asarray(seen @ unit) @ unit.T / history,
        }
        rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
        tops = {}
        for name, scores in per_source.items():
            scores[rows, seen.indices] = -np.inf
            tops[name] = _top(scores, self.n)
        ids = self.model.items.ids
        out = []
        for u in range(len(users)):
            merged: dict[int, tuple[dict[str, float], dict[str, int]]] = {}
            for name in SOURCES:
                for rank, item in enumerate(tops[name][u], start=1):
                    if not np.isfinite(per_source[name][u, item]):
                        break
                    scores, ranks = merged.setdefault(int(item), ({}, {}))
                    scores[name] = float(per_source[name][u, item])
                    ranks[name] = rank
            out.append([Proposal(ids[i], s, r) for i, (s, r) in merged.items()])
        return out


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Each row's n best columns, best first (finite scores only; ties in column order)."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    return np.take_along_axis(part, order, axis=1)
