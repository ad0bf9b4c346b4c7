"""Neighbour rows merged per reader: co-read lists computed once per model (item-item), and the
vector store's nearest books to each most-liked book (liked-vectors).

For item-item a request merges a few precomputed rows instead of a co-read product over every
reader; liked-vectors asks the configured VectorStore, so it runs on hnsw, Redis or pgvector, and
keeps each book's answer a few minutes (readers share their most-liked books).
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from cachetools import TTLCache

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.neighbours import NeighbourSource
from vibeshelf.recommend.retrieval import SourceContext
from vibeshelf.recommend.sources import Candidate, Profile, top_n, unit_score
from vibeshelf.recommend.taste import LikedVectors
from vibeshelf.recommend.twostage.reader import history_items

BLOCK = 1024
# Liked-vectors keeps the store's answer for this many books, each for this long: a book's
# nearest books change only when the index does, and an upsert shows within the time.
ANCHOR_CACHE = 4096
ANCHOR_CACHE_S = 300.0


class NeighbourTable:
    """Per item, its `width` most similar items (best first) and their similarities: the cosine
    between rows of `unit` (items x dims, rows of unit length or zero)."""

    def __init__(self, unit: np.ndarray | sp.csr_matrix, width: int) -> None:
        n = unit.shape[0]
        width = max(1, min(width, n - 1))
        self.items = np.full((n, width), -1, np.int32)
        self.similarity = np.full((n, width), -np.inf, np.float32)
        dense = not sp.issparse(unit)
        lengths = np.linalg.norm(unit, axis=1) if dense else unit.getnnz(axis=1)
        live = lengths > 0
        for start in range(0, n, BLOCK):
            rows = np.arange(start, min(start + BLOCK, n))
            sims = unit[rows] @ unit.T
            sims = np.asarray(sims if dense else sims.toarray(), np.float32)
            sims[:, ~live] = -np.inf
            sims[sims <= 0] = -np.inf
            sims[np.arange(len(rows)), rows] = -np.inf
            part = np.argpartition(-sims, width - 1, axis=1)[:, :width]
            values = np.take_along_axis(sims, part, axis=1)
            order = np.lexsort((part, -values), axis=1)
            best = np.take_along_axis(part, order, axis=1)
            found = np.take_along_axis(sims, best, axis=1)
            self.items[rows] = np.where(np.isfinite(found), best, -1)
            self.similarity[rows] = found


def co_read_table(seen: sp.csr_matrix, width: int) -> NeighbourTable:
    """Neighbours by co-reads: the cosine between two books' reader sets (users x items `seen`)."""
    readers = np.diff(seen.tocsc().indptr).astype(np.float64)
    scale = np.divide(1.0, np.sqrt(readers), out=np.zeros_like(readers), where=readers > 0)
    return NeighbourTable(sp.csr_matrix((seen @ sp.diags(scale)).T), width)


class MergedNeighbours(NeighbourSource):
    """Neighbour candidates from each anchor's neighbour row (`rows`): score = the best (or mean)
    similarity over the anchors, explained by the best anchor; the rows merged at once."""

    # How an item's similarities to several anchors combine: their mean over the anchors
    # (co-reads: books read with many of the reader's books first), else the best one.
    mean: ClassVar[bool] = False

    @abstractmethod
    def rows(self, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(neighbour item, similarity, anchor) triples of the anchors' rows, as three arrays;
        an anchor is never its own neighbour."""

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        anchors = np.asarray(
            [a for a in self.anchors(profile) if self.has_neighbours(int(a))], np.int64
        )
        if len(anchors) == 0:
            return None
        items, sims, owner = self.rows(anchors)
        if len(items) == 0:  # e.g. a store holding none of the anchors' neighbours
            return None
        order = np.lexsort((-sims, items))  # per item, its best similarity first
        first = np.r_[True, items[order][1:] != items[order][:-1]]
        best = order[first]
        scores = np.full(len(self.model.items), -np.inf)
        scores[items[best]] = sims[best]
        if self.mean:
            total = np.bincount(items, weights=sims, minlength=len(scores)) / len(anchors)
            scores[items[best]] = total[items[best]]
        because = dict(zip(items[best].tolist(), owner[best].tolist(), strict=True))
        ids = self.model.items.ids
        return [
            Candidate(ids[i], unit_score(scores[i]), ids[because[int(i)]])
            for i in top_n(scores, excluded, n)
        ]


class TableNeighbours(MergedNeighbours):
    """Neighbour candidates from a NeighbourTable (`self.table`)."""

    table: NeighbourTable

    def rows(self, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        items = self.table.items[anchors].ravel()
        sims = self.table.similarity[anchors].ravel()
        owner = np.repeat(anchors, self.table.items.shape[1])
        keep = items >= 0
        return items[keep], sims[keep], owner[keep]

    def has_neighbours(self, item: int) -> bool:
        return bool(self.table.items[item, 0] >= 0)

    def neighbours(self, item: int, k: int) -> list[tuple[int, float]]:
        row, sims = self.table.items[item, :k], self.table.similarity[item, :k]
        keep = row >= 0
        return list(zip(row[keep].tolist(), sims[keep].tolist(), strict=True))


class TableItemItem(TableNeighbours):
    """Item-item CF by co-reads: the mean, over all the reader's books, of the co-read cosine."""

    strategy = "item-item"
    mean = True

    def __init__(self, model: RecsModel, table: NeighbourTable) -> None:
        super().__init__(model)
        self.table = table

    def anchors(self, profile: Profile) -> np.ndarray:
        return history_items(self.model, profile)


class StoreLikedVectors(MergedNeighbours, LikedVectors):
    """Liked-vectors through the configured VectorStore (hnsw, Redis or pgvector): one `knn` of
    `width` books per anchor (the 10 most-liked books), merged at once."""

    def __init__(self, model: RecsModel, context: SourceContext, width: int) -> None:
        assert context.store is not None and context.vector_of is not None
        LikedVectors.__init__(
            self, model, context.store, context.vector_of, context.strengths, context.anchors
        )
        self.width = width
        self._found: TTLCache[int, list[tuple[int, float]]] = TTLCache(ANCHOR_CACHE, ANCHOR_CACHE_S)
        self._lock = threading.Lock()

    def rows(self, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        items: list[int] = []
        sims: list[float] = []
        owner: list[int] = []
        for anchor in anchors.tolist():
            found = self._nearest(anchor)
            items.extend(i for i, _ in found)
            sims.extend(s for _, s in found)
            owner.extend([anchor] * len(found))
        return np.array(items, np.int64), np.array(sims, np.float64), np.array(owner, np.int64)

    def _nearest(self, anchor: int) -> list[tuple[int, float]]:
        """(item, similarity) of the store's `width` nearest books to `anchor`, kept a while."""
        with self._lock:
            found = self._found.get(anchor)
        if found is None:
            index, ids = self.model.item_index, self.model.items.ids
            hits = self.store.knn(self.vector_of(ids[anchor]), self.width + 1)  # type: ignore[arg-type]
            found = [(index[h.id], h.similarity) for h in hits if h.id in index]
            found = [(i, s) for i, s in found if i != anchor and s > 0]
            with self._lock:
                self._found[anchor] = found
        return found
