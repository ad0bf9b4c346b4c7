"""Answers to a query that names something: a book's neighbours ("books like X"), an author's books."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from scipy import sparse

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.series import words_key
from vibeshelf.index.base import VectorStore
from vibeshelf.index.filters import Filter
from vibeshelf.search.features import ShelfTables
from vibeshelf.search.formats import format_work, in_format
from vibeshelf.search.fusion import rrf
from vibeshelf.search.genre_likeness import GenreLikeness
from vibeshelf.search.ranking import RankTable, demote
from vibeshelf.search.retrieve import Retrieved


class CoReadNeighbours(Protocol):
    """The books most read by the readers of a book (collaborative filtering)."""

    def co_read(self, book_id: str, limit: int) -> list[str]:
        """Up to `limit` book ids, best first, never `book_id` itself."""
        ...


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / (np.linalg.norm(vector) or 1.0)).astype(np.float32)


class Answers:
    """Ranks a named book's neighbours and a named author's books."""

    def __init__(
        self,
        store: VectorStore,
        catalog: BookCatalog,
        ranking: RankTable,
        vector_of: Callable[[Book], np.ndarray],
        shelves: ShelfTables,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.ranking = ranking
        self.vector_of = vector_of
        self.ids = list(shelves.book_shelves)
        self.rows = {book_id: row for row, book_id in enumerate(self.ids)}
        self.shelf_profiles = _shelf_profiles(
            [shelves.book_shelves[i] for i in self.ids], len(shelves.stems)
        )
        genres = [catalog.get(i).genres for i in self.ids]  # type: ignore[union-attr]
        self.genres = GenreLikeness(self.ids, genres)

    def like_book(
        self,
        book: Book,
        steer: np.ndarray | None,
        filters: Filter,
        keep: Callable[[str], bool] | None,
        k: int,
        co_read: CoReadNeighbours | None,
        rrf_k: int,
        popularity_weight: float = 0.0,
        genre_weight: float = 0.0,
    ) -> tuple[Retrieved, list[tuple[str, float]]]:
        """The book's neighbours by content (its vector's nearest, blended with `steer`'s when
        given), by shelves and by readers, fused by reciprocal rank (constant `rrf_k`) plus
        `popularity_weight` times each one's log-popularity (up to the book's own) and
        `genre_weight` times the cosine of its most specific canonical genres to the book's
        (GenreLikeness); with `steer`, the
        shelf and co-read neighbours most like the blend first. Never the book, its editions or
        box sets; its own series and author after the rest, and comics or graphic novels after
        those unless the book is one in its own right."""
        vector = self.vector_of(book)
        if steer is not None:
            vector = _unit(vector + steer)
        same = self._same_work(book)
        hits = [
            h for h in self.store.knn(vector, k + 20, filters) if h.id in self.ranking and not same(h.id)
        ]

        def allowed(ids: list[str]) -> list[str]:
            return [i for i in ids if i in self.ranking and not same(i) and (keep is None or keep(i))][:k]

        lists = [
            [h.id for h in hits][:k],
            allowed(self._shelf_neighbours(book.book_id, k + 20)),
            allowed(co_read.co_read(book.book_id, k + 20)) if co_read is not None else [],
        ]
        if steer is not None:
            lists[1:] = [self._nearest_first(vector, ids) for ids in lists[1:]]
        found = Retrieved(
            book.title, vector, [(h.id, h.similarity) for h in hits],
            {h.id: h.similarity for h in hits}, [], None, 0.0, [],
        )
        ordered = self._rescored(book.book_id, rrf(lists, rrf_k), popularity_weight, genre_weight)
        ordered = demote(ordered, self._kin(book, [i for i, _ in ordered]))
        return found, ordered if format_work(book) else demote(ordered, self._in_format(ordered))

    def by_author(
        self,
        books: list[Book],
        vibe: np.ndarray | None,
        keep: Callable[[str], bool] | None,
        popularity_weight: float,
    ) -> tuple[Retrieved, list[tuple[str, float]]]:
        """An author's books that pass `keep`: nearest `vibe` first when given, else most read."""
        ids = [
            b.book_id for b in books if b.book_id in self.ranking and (keep is None or keep(b.book_id))
        ]
        if vibe is None:
            ordered = [(i, self.ranking.books[i].popularity) for i in ids]
            return Retrieved("", None, [], {}, [], None, 0.0, []), ordered
        sims = self.store.similarities(vibe, ids)
        hits = [(i, s) for i, s in zip(ids, sims, strict=True) if s is not None]
        ranked = self.ranking.rank(hits, popularity_weight)
        return Retrieved("", vibe, ranked, dict(hits), [], None, 0.0, []), ranked

    def _rescored(
        self,
        book_id: str,
        ordered: list[tuple[str, float]],
        popularity_weight: float,
        genre_weight: float,
    ) -> list[tuple[str, float]]:
        """(book id, score + popularity_weight * its popularity, up to `book_id`'s, + genre_weight
        * the cosine of its genres to `book_id`'s), best first. Popularity counts only up to the
        named book's: it keeps rare books that merely share X's rarest shelves below X's peers, but
        does not put whatever everyone reads (The Da Vinci Code) above them."""
        if not (popularity_weight or genre_weight) or not ordered:
            return ordered
        books = self.ranking.books
        scores = np.array([s for _, s in ordered])
        known = books[book_id].popularity if book_id in books else 1.0  # as well read as X counts fully
        scores += popularity_weight * np.minimum([books[i].popularity for i, _ in ordered], known)
        if genre_weight:
            scores += genre_weight * self.genres.to(book_id, [i for i, _ in ordered])
        scored = [(i, float(s)) for (i, _), s in zip(ordered, scores, strict=True)]
        return sorted(scored, key=lambda bs: (-bs[1], -books[bs[0]].ratings_count, bs[0]))

    def _nearest_first(self, vector: np.ndarray, ids: list[str]) -> list[str]:
        """`ids` ordered by their similarity to `vector`, the most similar first."""
        sims = self.store.similarities(vector, ids)
        return [i for _, i in sorted(zip([-(s or 0.0) for s in sims], ids, strict=True))]

    def _shelf_neighbours(self, book_id: str, k: int) -> list[str]:
        """The books whose shelves (weighted by how rare each is) are most like `book_id`'s."""
        row = self.rows.get(book_id)
        if row is None or self.shelf_profiles.nnz == 0:
            return []
        scores = (self.shelf_profiles @ self.shelf_profiles[row].T).toarray().ravel()
        scores[row] = 0.0
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return [self.ids[r] for r in top[np.argsort(-scores[top], kind="stable")] if scores[r] > 0]

    def _in_format(self, ordered: list[tuple[str, float]]) -> set[str]:
        """The comics, graphic novels and the like among `ordered`: not what "books like" a
        novel asks for first."""
        return {i for i, _ in ordered if in_format(self.catalog.get(i))}  # type: ignore[arg-type]

    def _kin(self, book: Book, ids: list[str]) -> set[str]:
        """Those of `ids` in `book`'s series or by one of its authors: not what "books like it"
        asks for first."""
        series = self.ranking.series
        name = series[book.book_id][0] if book.book_id in series else None
        authors = set(book.authors)
        kin = set()
        for i in ids:
            other: Book = self.catalog.get(i)  # type: ignore[assignment]
            if authors & set(other.authors) or (name is not None and i in series and series[i][0] == name):
                kin.add(i)
        return kin

    def _same_work(self, book: Book) -> Callable[[str], bool]:
        """Whether a book id is `book`, an edition of it, a companion (box set, guide) of it or
        its series, or a book whose title names its series ("Harry Potter: A Pop-Up Book")."""
        work = self.ranking.books[book.book_id].work
        series = self.ranking.series.get(book.book_id)
        named = series[0] if series is not None else ""
        names = {f" {words_key(book.title)} ", f" {named} "} - {"  "}
        named = f" {named} " if len(named.split()) > 1 else ""  # "gone" would name Gone Girl

        def same(book_id: str) -> bool:
            other = self.ranking.books[book_id]
            if other.work == work:
                return True
            title = f" {words_key(self.catalog.get(book_id).title)} "  # type: ignore[union-attr]
            return bool(named and named in title) or (
                other.companion and any(name in title for name in names)
            )

        return same


def _shelf_profiles(book_shelves: list[np.ndarray], shelf_count: int) -> sparse.csr_matrix:
    """A books x shelves matrix, each shelf weighted by its inverse book frequency, rows unit."""
    rows = np.repeat(np.arange(len(book_shelves)), [len(s) for s in book_shelves])
    cols = np.concatenate(book_shelves) if book_shelves else np.zeros(0, np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(cols)), (rows, cols)), shape=(len(book_shelves), max(shelf_count, 1))
    )
    frequency = np.bincount(cols, minlength=matrix.shape[1])
    matrix = matrix @ sparse.diags(np.log((1 + len(book_shelves)) / (1 + frequency)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1 / np.maximum(norms, 1e-12)) @ matrix)
