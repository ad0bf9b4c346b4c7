"""Exact title and author matches, which hybrid and lexical search promote to the top."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from vibeshelf.catalog.books import Book
from vibeshelf.catalog.series import without_article, words_key
from vibeshelf.search.ranking import lead_with

PROMOTED = 3


def _keys(text: str) -> set[str]:
    key = words_key(text)
    return {key, without_article(key)} - {""}


class ExactMatcher:
    """Books whose title (series suffix and leading article optional) or author equals the query."""

    def __init__(self, books: Iterable[Book]) -> None:
        self._titles: dict[str, list[Book]] = defaultdict(list)
        self._authors: dict[str, list[Book]] = defaultdict(list)
        for book in books:
            for key in _keys(book.title):
                self._titles[key].append(book)
            for author in book.authors:
                self._authors[words_key(author)].append(book)
        for index in (self._titles, self._authors):
            for shelf in index.values():
                shelf.sort(key=lambda b: (-b.ratings_count, b.book_id))

    def match(self, query: str) -> list[tuple[str, str]]:
        """(book_id, "title" | "author") for exact matches, most rated first, titles before authors."""
        key = words_key(query)
        found: dict[str, str] = {}
        for kind, index in (("title", self._titles), ("author", self._authors)):
            for book in index.get(key, ()) or index.get(without_article(key), ()):
                found.setdefault(book.book_id, kind)
        return list(found.items())

    def promote(
        self, query: str, ordered: list[tuple[str, float]], keep: Callable[[str], bool] | None
    ) -> tuple[list[tuple[str, float]], dict[str, str]]:
        """`ordered` (book id, score) with up to PROMOTED exact matches that pass `keep` (all when
        None) moved to the top at its top score, and those matches: book id -> their kind."""
        matches = [(i, kind) for i, kind in self.match(query) if keep is None or keep(i)][:PROMOTED]
        promoted = dict(matches)
        return lead_with(ordered, list(promoted)), promoted
