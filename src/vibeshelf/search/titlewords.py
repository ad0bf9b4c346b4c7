"""Title-only matches: books a vibe query's words reach only through their title, not their text."""

from __future__ import annotations

from collections import defaultdict

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.documents import build_document
from vibeshelf.search.lexical import query_stems, tokenize

# Words of almost every vibe query ("a book about", "a novel where") that say nothing of one.
_GENERIC = frozenset(tokenize("book books novel novels read story stories series about like something"))


class TitleWords:
    """Which books carry a word in their title, and whether the rest of their text does too."""

    def __init__(self, catalog: BookCatalog) -> None:
        self.catalog = catalog
        self._titled: dict[str, set[str]] = defaultdict(set)
        for book in catalog:
            for stem in tokenize(book.title):
                self._titled[stem].add(book.book_id)
        self._body: dict[str, frozenset[str]] = {}

    def title_only(self, query: str) -> set[str]:
        """Books whose title holds a word of `query` while none of their other text (authors,
        shelves, description) holds any: a coincidence of words, not a match of what the book is."""
        stems = set(query_stems(query)) - _GENERIC
        titled = set().union(*(self._titled.get(s, set()) for s in stems)) if stems else set()
        return {book_id for book_id in titled if stems.isdisjoint(self._body_stems(book_id))}

    def _body_stems(self, book_id: str) -> frozenset[str]:
        body = self._body.get(book_id)
        if body is None:
            book = self.catalog.get(book_id)
            assert book is not None
            body = self._body[book_id] = frozenset(
                tokenize(build_document("", book.authors, book.shelves, book.description))
            )
        return body
