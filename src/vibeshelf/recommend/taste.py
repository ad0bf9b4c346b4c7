"""Candidate sources from a reader's taste: books whose text is near their most-liked ones, and
popular books in their canonical genres (for histories too thin for collaborative filtering)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import scipy.sparse as sp

from vibeshelf.index.base import VectorStore
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.neighbours import Content, VectorLookup
from vibeshelf.recommend.sources import Candidate, CandidateSource, Profile, top_n, unit_score


def most_liked_first(items: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """`items` by strength, highest first (implicit NaN last), ties in item order."""
    return items[np.lexsort((items, -np.nan_to_num(strengths, nan=-1.0)))]


class LikedVectors(Content):
    """The vector store's nearest books to the reader's most-liked books (one `knn` per anchor).

    Anchors: the liked books given, then the reader's training items by strength when the
    interaction strengths are known (else in model order), at most `max_anchors`.
    """

    strategy = "liked-vectors"

    def __init__(
        self,
        model: RecsModel,
        store: VectorStore,
        vector_of: VectorLookup,
        strengths: sp.csr_matrix | None = None,
        max_anchors: int = 10,
    ) -> None:
        super().__init__(model, store, vector_of)
        self.strengths = strengths
        self.max_anchors = max_anchors

    def anchors(self, profile: Profile) -> np.ndarray:
        liked = self.known(profile.liked)
        user = self.model.user_index.get(profile.user_id) if profile.user_id is not None else None
        if user is not None:
            liked = np.concatenate([liked, self._by_strength(user)])
        return np.asarray(list(dict.fromkeys(liked.tolist()))[: self.max_anchors], dtype=np.int64)

    def _by_strength(self, user: int) -> np.ndarray:
        if self.strengths is None:
            return self.model.user_items(user)
        row = self.strengths[user]
        return most_liked_first(row.indices.astype(np.int64), row.data)


class GenrePopular(CandidateSource):
    """Popular books in the reader's canonical genres: popularity x cosine(book genres, taste).

    The taste is the sum of the history's genre vectors (each genre weighted by its rarity); books
    sharing no genre with it are not proposed. Each candidate's `shared` names the genres it
    shares with the taste, strongest first.
    """

    strategy = "genre-popular"

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        history = self.history(profile)
        taste = np.asarray(self.genre_matrix[history].sum(axis=0)).ravel()
        norm = np.linalg.norm(taste)
        if norm == 0:
            return None
        match = self.genre_matrix @ (taste / norm)
        scores = np.where(match > 0, match * self.model.popularity, -np.inf)
        ids = self.model.items.ids
        return [
            Candidate(ids[i], unit_score(scores[i]), shared=self._shared(int(i), taste))
            for i in top_n(scores, excluded, n)
        ]

    def history(self, profile: Profile) -> np.ndarray:
        """The liked books and the reader's training items."""
        history = self.known(profile.liked)
        user = self.model.user_index.get(profile.user_id) if profile.user_id is not None else None
        if user is not None:
            history = np.concatenate([history, self.model.user_items(user)])
        return history

    @cached_property
    def genre_names(self) -> list[str]:
        return sorted({g for genres in self.model.items.genres for g in genres})

    @cached_property
    def genre_matrix(self) -> sp.csr_matrix:
        """Items x genres, each genre weighted log(items / items with it), rows of unit length."""
        column = {g: j for j, g in enumerate(self.genre_names)}
        rows = [i for i, genres in enumerate(self.model.items.genres) for _ in genres]
        cols = [column[g] for genres in self.model.items.genres for g in genres]
        shape = (len(self.model.items), len(column))
        indicator = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        indicator.sum_duplicates()
        indicator.data[:] = 1.0  # a genre listed twice counts once
        books = np.asarray(indicator.sum(axis=0)).ravel()
        weighted = indicator @ sp.diags(np.log(len(self.model.items) / np.maximum(books, 1)))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(inverse) @ weighted)

    def _shared(self, item: int, taste: np.ndarray) -> tuple[str, ...]:
        matrix = self.genre_matrix  # the row's genres read from the CSR arrays: no row copy
        genres = matrix.indices[matrix.indptr[item] : matrix.indptr[item + 1]]
        order = np.lexsort((genres, -taste[genres]))
        return tuple(self.genre_names[j] for j in genres[order] if taste[j] > 0)
