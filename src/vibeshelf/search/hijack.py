"""The title-hijack test: a result that matches a query only through a word of its title."""

from __future__ import annotations

from collections.abc import Sequence

from vibeshelf.catalog.books import Book
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.search.lexical import tokenize

# Words that say what kind of request it is, not what it is about ("books like", "a novel").
REQUEST_WORDS = frozenset(tokenize(
    "book books novel novels story stories read reads reading like similar something series "
    "recommend want find good about"
))
HIJACK_DEPTH = 3


def content_words(query: str) -> frozenset[str]:
    """The query's stems (as BM25 matches them) without stop words and request words."""
    return frozenset(tokenize(query)) - REQUEST_WORDS


def is_title_hijack(words: frozenset[str], book: Book) -> bool:
    """True when a content word of the query is in the book's title and none is in its authors,
    shelves or description: the book matched the query only through its title."""
    if not words & frozenset(tokenize(book.title)):
        return False
    other = " ".join([*book.authors, *(shelf_phrase(s) for s in book.shelves), book.description or ""])
    return not words & frozenset(tokenize(other))


def hijacked_share(query: str, books: Sequence[Book | None], depth: int = HIJACK_DEPTH) -> float:
    """The share of the top `depth` results (those shown) that are title hijacks; 0 if none."""
    shown = [b for b in books[:depth] if b is not None]
    if not shown:
        return 0.0
    words = content_words(query)
    return sum(is_title_hijack(words, b) for b in shown) / len(shown)
