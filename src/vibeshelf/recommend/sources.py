"""The candidate-source contract, and its ALS, liked-list fold-in and popularity sources.

Every source answers a Profile with at most n candidates, best first: never an item the profile has
seen or liked (nor the user's training items), scores in [0, 1], ties broken by item order so the
same input always gives the same list. A source that cannot personalise (an unknown user, nothing
liked that it knows) answers with the popularity fallback, strategy "popular".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from tqdm import tqdm

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.models.als import fold_in

MAX_ANCHORS = 30
LIKE_STRENGTH = 1.0


@dataclass(frozen=True)
class Profile:
    """Who the recommendations are for: a model user and/or items liked in this session."""

    user_id: str | None = None
    liked: tuple[str, ...] = ()
    seen: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """One recommended item; `because` is the liked or read item that explains it."""

    item_id: str
    score: float
    because: str | None = None
    shared: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """What a source returned and how it got there."""

    strategy: str
    candidates: list[Candidate]


class CandidateSource(ABC):
    """Ranks the model's items for a profile."""

    strategy: ClassVar[str]

    def __init__(self, model: RecsModel) -> None:
        self.model = model

    def recommend(self, profile: Profile, n: int) -> Recommendation:
        """This source's ranking, or the popularity fallback when it cannot personalise."""
        return self.personalised(profile, n) or Popularity(self.model).recommend(profile, n)

    def personalised(self, profile: Profile, n: int) -> Recommendation | None:
        """This source's ranking, or None when it knows nothing about the profile."""
        ranked = self._rank(profile, self.excluded(profile), n) if n > 0 else []
        return None if ranked is None else Recommendation(self.strategy, ranked)

    @abstractmethod
    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        """Up to n candidates outside `excluded` (a boolean item mask); None when it cannot personalise."""

    def excluded(self, profile: Profile) -> np.ndarray:
        """Items never to return: seen, liked, and the user's training items."""
        mask = np.zeros(len(self.model.items), dtype=bool)
        mask[self.known(profile.seen | set(profile.liked))] = True
        user = self.model.user_index.get(profile.user_id) if profile.user_id is not None else None
        if user is not None:
            mask[self.model.user_items(user)] = True
        return mask

    def known(self, item_ids: Iterable[str]) -> np.ndarray:
        """Model indices of the ids the model has, in the given order, without repeats."""
        index = self.model.item_index
        return np.asarray(
            list(dict.fromkeys(index[i] for i in item_ids if i in index)), dtype=np.int64
        )

    def anchors(self, profile: Profile) -> np.ndarray:
        """Items that stand for the profile's taste: liked ones, else the user's training items."""
        liked = self.known(profile.liked)
        if len(liked) == 0 and profile.user_id in self.model.user_index:
            liked = self.model.user_items(self.model.user_index[profile.user_id])  # type: ignore[index]
        return liked[:MAX_ANCHORS]


def top_n(scores: np.ndarray, excluded: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n best allowed scores; equal scores in index order."""
    allowed = np.flatnonzero(~excluded & np.isfinite(scores))
    k = min(n, len(allowed))
    if k == 0:
        return allowed[:0]
    values = scores[allowed]
    threshold = values[np.argpartition(-values, k - 1)[k - 1]]
    keep = allowed[values >= threshold]
    return keep[np.lexsort((keep, -scores[keep]))][:k]


def unit_score(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


class Popularity(CandidateSource):
    """Most-read items first: users per item, scaled so the most read scores 1."""

    strategy = "popular"

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate]:
        scores = self.model.popularity
        return [
            Candidate(self.model.items.ids[i], unit_score(scores[i]))
            for i in top_n(scores, excluded, n)
        ]


class _FactorSource(CandidateSource):
    """Scores items by x . y_i for a user vector x; explains each by its closest anchor."""

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        vector = self.user_vector(profile)
        if vector is None:
            return None
        best = self.best_items(profile, vector, excluded, n)
        scores = self.model.item_factors[best] @ vector
        because = self.explain(best, self.anchors(profile))
        ids = self.model.items.ids
        return [
            Candidate(ids[i], unit_score(score), ids[b] if b >= 0 else None)
            for i, score, b in zip(best, scores, because, strict=True)
        ]

    @abstractmethod
    def user_vector(self, profile: Profile) -> np.ndarray | None:
        """The profile's factor vector, or None when there is none."""

    def best_items(
        self, profile: Profile, vector: np.ndarray, excluded: np.ndarray, n: int
    ) -> np.ndarray:
        """The n allowed items with the highest x . y_i, scored against every item."""
        return top_n(self.model.item_factors @ vector, excluded, n)

    def explain(self, items: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """For each item, the anchor with the most similar factors (-1 when there are no anchors)."""
        if len(anchors) == 0 or len(items) == 0:
            return np.full(len(items), -1)
        unit = self.model.unit_items
        sims = unit[items] @ unit[anchors].T
        return anchors[np.argmax(sims, axis=1)]


class Als(_FactorSource):
    """The trained user vector of a known user."""

    strategy = "als"

    def user_vector(self, profile: Profile) -> np.ndarray | None:
        user = self.model.user_index.get(profile.user_id) if profile.user_id is not None else None
        if user is None or not self.model.user_factors[user].any():
            return None
        return self.model.user_factors[user]

    def best_items(
        self, profile: Profile, vector: np.ndarray, excluded: np.ndarray, n: int
    ) -> np.ndarray:
        """The user's precomputed ranking minus `excluded`, when it still holds n items (or all).

        The ranking (`RecsModel.top_items`, written at training) is this same top_n over all items
        with the training items excluded, so skipping further excluded items leaves the exact
        answer; scoring every item again is the fallback when too few are left.
        """
        top = self.model.top_items
        user = self.model.user_index[profile.user_id]  # type: ignore[index]
        if top is not None:
            ranked = top[user][top[user] >= 0]
            allowed = ranked[~excluded[ranked]]
            if len(allowed) >= n or top[user, -1] < 0:
                return allowed[:n]
        return super().best_items(profile, vector, excluded, n)


def als_top_items(model: RecsModel, k: int, progress: bool = False) -> np.ndarray:
    """Each user's k best items outside their training items (-1 pads), for serving.

    Scored exactly as `Als` scores one user at request time (the same matrix-vector product), so a
    precomputed list and a live one agree on every tie.
    """
    top = np.full((len(model.users), k), -1, dtype=np.int32)
    for user in tqdm(range(len(model.users)), desc="top items", unit="user", disable=not progress):
        vector = model.user_factors[user]
        if not vector.any():
            continue
        excluded = np.zeros(len(model.items), dtype=bool)
        excluded[model.user_items(user)] = True
        best = top_n(model.item_factors @ vector, excluded, k)
        top[user, : len(best)] = best
    return top


class FoldIn(_FactorSource):
    """A new user vector solved from the liked items (exact ALS least squares, item factors fixed)."""

    strategy = "fold-in"

    def user_vector(self, profile: Profile) -> np.ndarray | None:
        liked = self.known(profile.liked)
        if len(liked) == 0:
            return None
        alpha = float(self.model.metadata["params"]["alpha"])
        confidence = np.full(len(liked), 1.0 + alpha * LIKE_STRENGTH)
        return fold_in(self.model.item_factors, self.model.gram_inverse, liked, confidence)
