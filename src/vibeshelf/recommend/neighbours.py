"""Neighbour candidate sources: item-item CF through the model's ANN index, and content."""

from __future__ import annotations

from abc import abstractmethod
from collections import Counter
from collections.abc import Callable
from functools import cached_property

import numpy as np

from vibeshelf.index.base import VectorStore
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.sources import Candidate, CandidateSource, Profile, top_n, unit_score

VectorLookup = Callable[[str], np.ndarray | None]


class NeighbourSource(CandidateSource):
    """Items most similar to any anchor: score = best similarity, explained by that anchor."""

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        anchors = [a for a in self.anchors(profile) if self.has_neighbours(int(a))]
        if not anchors:
            return None
        best: dict[int, tuple[float, int]] = {}
        k = n + int(excluded.sum()) + 1
        for anchor in anchors:
            for item, similarity in self.neighbours(int(anchor), k):
                if not excluded[item] and similarity > best.get(item, (-np.inf, 0))[0]:
                    best[item] = (similarity, int(anchor))
        if not best:
            return None
        items = np.fromiter(best, np.int64, len(best))
        scores = np.full(len(self.model.items), -np.inf)
        scores[items] = [best[i][0] for i in items]
        ids = self.model.items.ids
        return [
            Candidate(
                ids[i], unit_score(scores[i]), ids[best[i][1]], self.shared(best[i][1], int(i))
            )
            for i in top_n(scores, excluded, n)
        ]

    @abstractmethod
    def has_neighbours(self, item: int) -> bool:
        """Whether the source can find neighbours of this item."""

    @abstractmethod
    def neighbours(self, item: int, k: int) -> list[tuple[int, float]]:
        """Up to k (item index, similarity) pairs, the item itself excluded."""

    def shared(self, anchor: int, item: int) -> tuple[str, ...]:
        """Shelves the two items share, the most telling (fewest books) first."""
        shelves = self.model.items.shelves
        anchor_shelves = set(shelves[anchor])
        common = [s for s in shelves[item] if s in anchor_shelves]
        return tuple(sorted(common, key=lambda shelf: (self.shelf_books[shelf], shelf)))

    @cached_property
    def shelf_books(self) -> Counter[str]:
        """How many items carry each shelf."""
        return Counter(shelf for shelves in self.model.items.shelves for shelf in shelves)


class ItemItem(NeighbourSource):
    """Collaborative item-item: cosine between item factors, through the model's ANN index."""

    strategy = "item-item"

    def has_neighbours(self, item: int) -> bool:
        return bool(self.model.unit_items[item].any()) and self.model.ann is not None

    def neighbours(self, item: int, k: int) -> list[tuple[int, float]]:
        index = self.model.item_index
        hits = self.model.ann.knn(self.model.unit_items[item], k + 1)  # type: ignore[union-attr]
        return [(index[h.id], h.similarity) for h in hits if index[h.id] != item]


class Content(NeighbourSource):
    """Content similarity: the search index's nearest books to an item's own embedding."""

    strategy = "content"

    def __init__(
        self, model: RecsModel, store: VectorStore, vector_of: VectorLookup
    ) -> None:
        super().__init__(model)
        self.store = store
        self.vector_of = vector_of

    def has_neighbours(self, item: int) -> bool:
        return self.vector_of(self.model.items.ids[item]) is not None

    def neighbours(self, item: int, k: int) -> list[tuple[int, float]]:
        item_id = self.model.items.ids[item]
        index = self.model.item_index
        hits = self.store.knn(self.vector_of(item_id), k + 1)  # type: ignore[arg-type]
        return [(index[h.id], h.similarity) for h in hits if h.id != item_id and h.id in index]


def vector_lookup(ids: list[str], vectors: np.ndarray) -> VectorLookup:
    """A book id -> its row of `vectors` (None for an id not in `ids`), for Content's `vector_of`."""
    rows = {book_id: i for i, book_id in enumerate(ids)}

    def vector_of(book_id: str) -> np.ndarray | None:
        row = rows.get(book_id)
        return None if row is None else vectors[row]

    return vector_of
