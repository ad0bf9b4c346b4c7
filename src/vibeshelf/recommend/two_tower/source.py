"""The two-tower candidate source: the ONNX user tower's vector, knn in the item-vector store."""

from __future__ import annotations

import numpy as np

from vibeshelf.index.base import VectorStore
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.sources import (
    LIKE_STRENGTH,
    Candidate,
    CandidateSource,
    Profile,
    unit_score,
)
from vibeshelf.recommend.two_tower.artifacts import TwoTowerModel


class TwoTower(CandidateSource):
    """Books nearest the reader's user-tower vector; a book nobody has read is placed by its text
    and genres, so it can be retrieved too. Scores are (1 + cosine) / 2."""

    strategy = "two-tower"

    def __init__(self, model: RecsModel, tower: TwoTowerModel, store: VectorStore) -> None:
        super().__init__(model)
        self.tower = tower
        self.store = store

    def history(self, profile: Profile) -> np.ndarray | None:
        """The user tower's input: the liked books, else a training reader's history."""
        liked = [self.tower.item_index[i] for i in profile.liked if i in self.tower.item_index]
        if liked:
            weights = np.zeros(len(self.tower.items), np.float32)
            weights[liked] = LIKE_STRENGTH
            return weights
        return self.tower.user_history(profile.user_id)

    def excluded(self, profile: Profile) -> np.ndarray:
        """The contract's exclusions plus the reader's history as the two-tower model knows it."""
        mask = super().excluded(profile)
        history = self.tower.user_history(profile.user_id)
        if history is not None:
            mask[self.known(self.tower.items[j] for j in np.flatnonzero(history))] = True
        return mask

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        history = self.history(profile)
        if history is None or not history.any():
            return None
        vector = self.tower.user_tower.vectors(history)[0]
        hits = self.store.knn(vector, n + int(excluded.sum()))
        index = self.model.item_index
        ranked = sorted(
            (
                (unit_score((1.0 + hit.similarity) / 2.0), index[hit.id])
                for hit in hits
                if hit.id in index and not excluded[index[hit.id]]
            ),
            key=lambda pair: (-pair[0], pair[1]),
        )[:n]
        ids = self.model.items.ids
        anchors = [ids[a] for a in self.anchors(profile) if ids[a] in self.tower.item_index]
        return [
            Candidate(ids[item], score, self._closest(ids[item], anchors)) for score, item in ranked
        ]

    def _closest(self, item_id: str, anchors: list[str]) -> str | None:
        """The anchor whose item vector is most similar to the item's (None without anchors)."""
        row = self.tower.item_index.get(item_id)
        if row is None or not anchors:
            return None
        vectors = self.tower.item_vectors
        sims = vectors[[self.tower.item_index[a] for a in anchors]] @ vectors[row]
        return anchors[int(np.argmax(sims))]
