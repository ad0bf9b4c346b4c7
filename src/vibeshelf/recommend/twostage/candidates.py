"""Candidate proposals (item, each proposing source's score and rank), and an ALS + item-item retriever.

The retriever is the stand-in first stage the ranker is trained and evaluated with: ALS's best
items, and item-item co-reads (the mean over the reader's books of the cosine between two books'
reader sets), merged with every proposing source kept. Any first stage that returns Proposals
plugs into the pipeline.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.retrieval import Proposal

ALS = "als"
ITEM_ITEM = "item_item"
SOURCES = (ALS, ITEM_ITEM)


class Retrieve(Protocol):
    """The first stage: a reader's candidates."""

    def __call__(self, user_id: str) -> list[Proposal]: ...


class AlsItemItemRetriever:
    """ALS top n and co-read top n from a model's factors and training items, merged; the
    reader's books excluded."""

    def __init__(self, model: RecsModel, n: int) -> None:
        self.model = model
        self.n = n
        readers = np.diff(model.seen.tocsc().indptr).astype(np.float64)
        self.inverse_root = sp.diags(
            np.divide(1.0, np.sqrt(readers), out=np.zeros_like(readers), where=readers > 0)
        )
        self.by_item = (
            model.seen @ self.inverse_root
        ).tocsr()  # users x items, columns unit length

    def co_reads(self, seen: sp.csr_matrix) -> np.ndarray:
        """Per row, the mean cosine between each item and the row's items (reader-set cosine),
        computed as (h D^-1/2 B') (B D^-1/2) without forming the items x items matrix."""
        history = np.maximum(np.diff(seen.indptr), 1)[:, None]
        return (
            np.asarray(((seen @ self.inverse_root) @ self.by_item.T @ self.by_item).todense())
            / history
        )

    def __call__(self, user_id: str) -> list[Proposal]:
        user = self.model.user_index.get(user_id)
        return [] if user is None else self.propose(np.array([user]))[0]

    def propose(self, users: np.ndarray) -> list[list[Proposal]]:
        """Each user's merged proposals, ALS's order first then item-item's new ones."""
        seen = self.model.seen[users]
        per_source = {
            ALS: self.model.user_factors[users] @ self.model.item_factors.T,
            ITEM_ITEM: self.co_reads(seen),
        }
        rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
        tops = {}
        for name, scores in per_source.items():
            scores[rows, seen.indices] = -np.inf
            tops[name] = _top(scores, self.n)
        ids = self.model.items.ids
        out = []
        for u in range(len(users)):
            ranks: dict[int, dict[str, int]] = {}
            for name in SOURCES:
                for rank, item in enumerate(tops[name][u], start=1):
                    if not np.isfinite(per_source[name][u, item]):
                        break
                    ranks.setdefault(int(item), {})[name] = rank
            out.append(
                [
                    Proposal(ids[i], {name: float(per_source[name][u, i]) for name in r}, r)
                    for i, r in ranks.items()
                ]
            )
        return out


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Each row's n best columns, best first (finite scores only; ties in column order)."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    return np.take_along_axis(part, order, axis=1)
