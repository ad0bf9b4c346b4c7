"""The reader the two-stage pipeline serves: a profile's books as model items, and its factor vector.

One profile shape for the three kinds of reader: a model reader (user_id, nothing new), a list of
liked books, and a reader the model does not know or who read books since it was trained (their
stored history passed in `liked`). The vector is the trained one for a plain model reader, else an
ALS fold-in over every book known of the reader, so the ALS score exists for all three.
"""

from __future__ import annotations

import numpy as np

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.models.als import fold_in
from vibeshelf.recommend.sources import (
    LIKE_STRENGTH,
    Profile,
    _FactorSource,
)


def known_user(model: RecsModel, profile: Profile) -> int | None:
    """The profile's model user index, or None."""
    return model.user_index.get(profile.user_id) if profile.user_id is not None else None


def history_items(model: RecsModel, profile: Profile) -> np.ndarray:
    """Model indices of the reader's books: liked, seen, then the model user's training items."""
    index = model.item_index
    given = [index[i] for i in (*profile.liked, *sorted(profile.seen)) if i in index]
    user = known_user(model, profile)
    trained = model.user_items(user).tolist() if user is not None else []
    return np.asarray(list(dict.fromkeys([*given, *trained])), dtype=np.int64)


class RequestHistory:
    """`history_items` computed once per request: the feature stage (the reader row of a reader
    the store does not hold) and the rules' read list ask for the same profile, so the last
    profile asked (by identity) and its books are kept."""

    def __init__(self, model: RecsModel) -> None:
        self.model = model
        self._last: tuple[Profile | None, np.ndarray] = (None, np.empty(0, np.int64))

    def __call__(self, profile: Profile) -> np.ndarray:
        last = self._last  # one read of the pair: another thread may replace it
        if last[0] is profile:
            return last[1]
        items = history_items(self.model, profile)
        self._last = (profile, items)
        return items


def plain_model_reader(model: RecsModel, profile: Profile) -> bool:
    """A model reader with no liked list and nothing read since training."""
    user = known_user(model, profile)
    if user is None or profile.liked:
        return False
    trained = set(model.user_items(user).tolist())
    index = model.item_index
    return all(index.get(i, -1) in trained for i in profile.seen)


def reader_vector(model: RecsModel, profile: Profile) -> np.ndarray | None:
    """A plain model reader's trained vector, else the fold-in of all their books (None: none)."""
    user = known_user(model, profile)
    if plain_model_reader(model, profile) and model.user_factors[user].any():  # type: ignore[index]
        return model.user_factors[user]  # type: ignore[index]
    items = history_items(model, profile)
    if len(items) == 0:
        return None
    alpha = float(model.metadata["params"]["alpha"])
    confidence = np.full(len(items), 1.0 + alpha * LIKE_STRENGTH)
    return fold_in(model.item_factors, model.gram_inverse, items, confidence)


class ReaderFactors(_FactorSource):
    """ALS for every kind of reader: x . y_i with x the trained or folded-in reader vector."""

    strategy = "als"

    def user_vector(self, profile: Profile) -> np.ndarray | None:
        return reader_vector(self.model, profile)

    def excluded(self, profile: Profile) -> np.ndarray:
        mask = super().excluded(profile)
        mask[history_items(self.model, profile)] = True
        return mask

    def best_items(
        self, profile: Profile, vector: np.ndarray, excluded: np.ndarray, n: int
    ) -> np.ndarray:
        """A plain model reader's precomputed ranking when it holds n allowed items, else a scan."""
        top = self.model.top_items
        user = known_user(self.model, profile)
        if top is not None and user is not None and plain_model_reader(self.model, profile):
            ranked = top[user][top[user] >= 0]
            allowed = ranked[~excluded[ranked]]
            if len(allowed) >= n or top[user, -1] < 0:
                return allowed[:n]
        return super().best_items(profile, vector, excluded, n)
