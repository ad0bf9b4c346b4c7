"""Ranking: similarity first, popularity second, and edition de-duplication.

    rank_score = similarity + w * log(1 + ratings_count) / log(1 + max_ratings_count)

The popularity term lies in [0, w] (w = search.popularity_weight, default 0.02), so a book that
is more similar by more than w always ranks higher; popularity only reorders near-ties. Exact
ties fall back to more ratings, then book id, so the order is deterministic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from vibeshelf.catalog.books import Book, BookCatalog

_SERIES = re.compile(r"\s*\([^)]*#[^)]*\)\s*$")
_NON_WORD = re.compile(r"[^\w]+")


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


class RankTable:
    """Each catalog book's ranking facts, computed once per catalog."""

    def __init__(self, catalog: BookCatalog) -> None:
        top = catalog.max_ratings_count
        groups = edition_groups((b.book_id, *edition_keys(b)) for b in catalog)
        self.books = {
            b.book_id: RankedBook(b.ratings_count, popularity(b.ratings_count, top), groups[b.book_id])
            for b in catalog
        }

    def __contains__(self, book_id: object) -> bool:
        return book_id in self.books

    def rank(self, hits: Iterable[tuple[str, float]], weight: float) -> list[tuple[str, float]]:
        """(book id, rank score) of (book id, similarity) hits, best first."""
        books = self.books
        scored = [(book_id, sim + weight * books[book_id].popularity) for book_id, sim in hits]
        scored.sort(key=lambda bs: (-bs[1], -books[bs[0]].ratings_count, bs[0]))
        return scored

    def dedupe(self, ordered: Iterable[tuple[str, float]], limit: int) -> list[tuple[str, float]]:
        """The first `limit` of `ordered`, keeping only the best-ranked edition of each work."""
        seen: set[int] = set()
        kept = []
        for book_id, score in ordered:
            work = self.books[book_id].work
            if work not in seen:
                seen.add(work)
                kept.append((book_id, score))
                if len(kept) == limit:
                    break
        return kept


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


def words_key(text: str) -> str:
    """Lower-case words without a series suffix: "Dune (Dune Chronicles #1)" -> "dune"."""
    return " ".join(_NON_WORD.sub(" ", _SERIES.sub("", text).lower()).split())


def title_key(title: str, first_author: str) -> str:
    """Normalised "title|author" with the series suffix removed: "Dune (Dune #1)" -> "dune|..."."""
    return words_key(title) + "|" + words_key(first_author)
