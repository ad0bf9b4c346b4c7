"""How alike two catalog books' canonical genres are: a cosine over their most specific genres."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# How many of a book's genres, most specific first, are compared: the broad ones after them
# (fiction, classics) say little of what a book is like.
COMPARED = 5


class GenreLikeness:
    """Each book's most specific genres as a unit vector, each genre weighted by its rarity
    (ln((1 + N) / (1 + n)) over N books, n of which have it), kept as (genre, weight) slots so
    a book's likeness to a few hundred others costs a gather, whatever the number of genres."""

    def __init__(self, ids: Sequence[str], genres: Sequence[Sequence[str]]) -> None:
        compared = dict.fromkeys(g for gs in genres for g in gs[:COMPARED])
        names = {g: n for n, g in enumerate(compared)}
        self.rows = {book_id: row for row, book_id in enumerate(ids)}
        self.size = len(names)  # a slot's genre index when empty; also the row of no book
        self._genres = np.full((len(ids) + 1, COMPARED), self.size, np.int64)
        for row, gs in enumerate(genres):
            kept = [names[g] for g in gs[:COMPARED]]
            self._genres[row, : len(kept)] = kept
        counts = np.bincount(self._genres.ravel(), minlength=self.size + 1)[: self.size]
        rarity = np.append(np.log((1 + len(ids)) / (1 + counts)), 0.0)
        weights = rarity[self._genres]
        norms = np.linalg.norm(weights, axis=1, keepdims=True)
        self._weights = np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)

    def to(self, book_id: str, others: Sequence[str]) -> np.ndarray:
        """The cosine of each of `others`' genres to `book_id`'s (0 for a book without genres or
        not in the catalog)."""
        row = self.rows.get(book_id)
        if row is None or self.size == 0:
            return np.zeros(len(others))
        own = np.zeros(self.size + 1)
        own[self._genres[row]] = self._weights[row]
        own[self.size] = 0.0
        missing = len(self._genres) - 1
        rows = [self.rows.get(i, missing) for i in others]
        return (self._weights[rows] * own[self._genres[rows]]).sum(axis=1)  # type: ignore[no-any-return]
