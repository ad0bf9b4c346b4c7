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
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from vibeshelf.catalog.books import Book, BookCatalog

_SERIES = re.compile(r"\s*\([^)]*#[^)]*\)\s*$")
_NON_WORD = re.compile(r"[^\w]+")
_ARTICLE = re.compile(r"^(?:the|a|an) ")
# "Catching Fire (The Hunger Games, #2)": the series name and a single number (not "#1-3"); of
# "The Truth (Discworld, #25; Industrial Revolution, #2)", the first series.
_SERIES_PART = re.compile(r"\(([^()#;]*?),?\s*#(\d+(?:\.\d+)?)(?:\s*;[^()]*)?\)\s*$")
# "(The Hunger Games, #1-3)": an omnibus of a series' books.
_RANGE_PART = re.compile(r"\(([^()]*?),?\s*#\d+\s*-\s*\d+\)\s*$")
_COMPANION = re.compile(
    r"\b(box(?:ed)?[ -]?sets?|boxset|collection|omnibus|complete (?:series|novels|works)|trilogy"
    r"|quartet|books? \d+\s*-\s*\d+|companion|(?:tribute|official|ultimate|unofficial|"
    r"illustrated) guide|guide to the (?:world|films?|movies?|series)|the world of"
    r"|the (?:art|making|science) of (?:the )?(?:film|movie)s?|coloring book|colouring book"
    r"|activity book)\b",
    re.IGNORECASE,
)


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
        numbered = {words_key(s[0]) for b in catalog if (s := series_of(b.title)) is not None}
        self.books = {
            b.book_id: RankedBook(
                b.ratings_count, popularity(b.ratings_count, top), groups[b.book_id], is_companion(b.title, numbered)
            )
            for b in catalog
        }
        # Each numbered book's (series key, number in it): "Specials (Uglies, #3)" -> ("uglies", 3).
        self.series = {
            b.book_id: (words_key(found[0]), found[1]) for b in catalog if (found := series_of(b.title))
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
    those books in reading order (a reader starts a series at #1), each place keeping its score."""
    books: dict[str, list[str]] = {}
    for book_id, _ in ordered:
        found = series.get(book_id)
        if found is not None:
            books.setdefault(found[0], []).append(book_id)
    if not books:
        return ordered
    queues = {key: iter(sorted(ids, key=lambda i: reading_order(series[i][1]))) for key, ids in books.items()}
    return [
        (next(queues[found[0]]), score) if (found := series.get(book_id)) is not None else (book_id, score)
        for book_id, score in ordered
    ]


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


def is_companion(title: str, numbered: Collection[str] = ()) -> bool:
    """Whether a title is a box set, omnibus, movie companion, guide... rather than a work: by
    its words, or as a range of a series ("(Dune, #1-3)") whose own books (`numbered`, series
    keys) are in the catalog."""
    if _COMPANION.search(_SERIES.sub("", title)):
        return True
    omnibus = _RANGE_PART.search(title)
    return omnibus is not None and words_key(omnibus.group(1)) in numbered


def asks_for_companions(query: str) -> bool:
    """Whether a query asks for box sets, collections, guides and the like by name."""
    return bool(_COMPANION.search(query))


def reading_order(number: float) -> tuple[bool, float]:
    """A sort key of series numbers: the whole books from #1 in order, then the novellas and
    extras between them (#0.5, #1.5)."""
    return number < 1 or not number.is_integer(), number


def series_of(title: str) -> tuple[str, float] | None:
    """(series name, number) from a goodbooks-style suffix, "X (The Hunger Games, #2)", the first
    of several ("X (Discworld, #25; Industrial Revolution, #2)"); None without one or for a range
    ("#1-3")."""
    found = _SERIES_PART.search(title)
    if found is None or not found.group(1).strip():
        return None
    return found.group(1).strip(), float(found.group(2))


def words_key(text: str) -> str:
    """Lower-case words without a series suffix: "Dune (Dune Chronicles #1)" -> "dune"."""
    return " ".join(_NON_WORD.sub(" ", _SERIES.sub("", text).lower()).split())


def without_article(key: str) -> str:
    """A words key less its leading article: "the hobbit" -> "hobbit"."""
    return _ARTICLE.sub("", key)


def title_key(title: str, first_author: str) -> str:
    """Normalised "title|author" with the series suffix removed: "Dune (Dune #1)" -> "dune|..."."""
    return words_key(title) + "|" + words_key(first_author)
