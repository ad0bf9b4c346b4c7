"""Ranking: similarity first, popularity second, edition de-duplication and companion demotion.

    rank_score = similarity + w * log(1 + ratings_count) / log(1 + max_ratings_count)

The popularity term lies in [0, w] (w = search.popularity_weight, default 0.02), so a book that
is more similar by more than w always ranks higher; popularity only reorders near-ties. Exact
ties fall back to more ratings, then book id, so the order is deterministic.

One work, one result: editions of a work are one result, and companions (box sets, omnibus
editions, movie companions, guides, "the world of" books) follow every other result unless the
query asks for them by one of those words.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.series import in_reading_order, is_companion, series_key, title_key


def popularity(ratings_count: int, max_ratings_count: int) -> float:
    """Log-scaled popularity in [0, 1]."""
    if max_ratings_count <= 0 or ratings_count <= 0:
        return 0.0
    return min(1.0, math.log1p(ratings_count) / math.log1p(max_ratings_count))


@dataclass(frozen=True)
class RankedBook:
    """What ranking needs of a catalog book: its ratings count, popularity and edition group."""

    ratings_count: int
    popularity: float
    work: int
    companion: bool  # a box set, omnibus, movie companion, guide... of other books


class RankTable:
    """Each catalog book's ranking facts, computed once per catalog."""

    def __init__(self, catalog: BookCatalog) -> None:
        top = catalog.max_ratings_count
        groups = edition_groups((b.book_id, *edition_keys(b)) for b in catalog)
        # Each numbered book's (series key, number in it): "Specials (Uglies, #3)" -> ("uglies", 3).
        self.series = {b.book_id: found for b in catalog if (found := series_key(b.title))}
        numbered = {key for key, _ in self.series.values()}
        self.books = {
            b.book_id: RankedBook(
                b.ratings_count, popularity(b.ratings_count, top), groups[b.book_id], is_companion(b.title, numbered)
            )
            for b in catalog
        }
        self._popularity = {book_id: book.popularity for book_id, book in self.books.items()}
        self._fewer_ratings = {book_id: -book.ratings_count for book_id, book in self.books.items()}

    def __contains__(self, book_id: object) -> bool:
        return book_id in self.books

    def popularities(self, ids: Iterable[str]) -> list[float]:
        """The books' log popularity in [0, 1]."""
        popularity = self._popularity
        return [popularity[book_id] for book_id in ids]

    def rank(self, hits: Iterable[tuple[str, float]], weight: float) -> list[tuple[str, float]]:
        """(book id, rank score) of (book id, similarity) hits, best first."""
        popularity, fewer_ratings = self._popularity, self._fewer_ratings
        keyed = sorted([(-(sim + weight * popularity[i]), fewer_ratings[i], i) for i, sim in hits])
        return [(book_id, -negated) for negated, _, book_id in keyed]

    def dedupe(
        self, ordered: Iterable[tuple[str, float]], limit: int, companions: bool = False
    ) -> list[tuple[str, float]]:
        """The first `limit` of `ordered`, keeping only the best-ranked edition of each work;
        companions come after every other book unless `companions` (the query asks for them)."""
        seen: set[int] = set()
        unique = []
        works = 0
        for book_id, score in ordered:
            book = self.books[book_id]
            if book.work not in seen:
                seen.add(book.work)
                unique.append((book_id, score))
                works += companions or not book.companion
                if works == limit:
                    break
        if not companions:
            unique = demote(unique, {i for i, _ in unique if self.books[i].companion})
        return unique[:limit]


def lead_with(ordered: list[tuple[str, float]], first: Sequence[str]) -> list[tuple[str, float]]:
    """`ordered` (book id, score, best first) with the books `first` at the top, in their order,
    each at its top score (0 when `ordered` is empty)."""
    if not first:
        return ordered
    top = ordered[0][1] if ordered else 0.0
    leading = set(first)
    return [(i, top) for i in first] + [(i, s) for i, s in ordered if i not in leading]


def demote(ordered: list[tuple[str, float]], pushed: Collection[str]) -> list[tuple[str, float]]:
    """`ordered` (book id, score, best first) with the books in `pushed` moved after all others,
    in their order, their scores lowered to at most the last other book's."""
    if not pushed:
        return ordered
    kept = [(i, s) for i, s in ordered if i not in pushed]
    floor = kept[-1][1] if kept else None
    return kept + [(i, s if floor is None else min(s, floor)) for i, s in ordered if i in pushed]


def series_in_order(
    ordered: list[tuple[str, float]], series: dict[str, tuple[str, float]]
) -> list[tuple[str, float]]:
    """`ordered` (book id, score, best first) with the places a series' books hold refilled by
    those books in reading order, each place keeping its score."""
    ids = in_reading_order([book_id for book_id, _ in ordered], series)
    return [(book_id, score) for book_id, (_, score) in zip(ids, ordered)]


def edition_keys(book: Book) -> tuple[str, str]:
    """A book's two edition keys: its work id and its normalised title and first author."""
    work_key = f"work:{book.work_id}" if book.work_id else ""
    return work_key, title_key(book.title, book.authors[0] if book.authors else "")


def edition_groups(books: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """A work number per (book id, work key, title key): books are editions of one work when they
    share a non-empty key, and the relation is transitive (A and B share a work id, B and C a
    title: A, B and C are one work), so the keys are joined with a union-find."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    firsts = {}
    for book_id, *keys in books:
        first, *rest = [k for k in keys if k] or [f"id:{book_id}"]
        firsts[book_id] = first
        for key in rest:
            parent[root(key)] = root(first)
    numbers: dict[str, int] = {}
    return {book_id: numbers.setdefault(root(first), len(numbers)) for book_id, first in firsts.items()}
