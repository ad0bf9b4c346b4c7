"""Formats of a book rather than works: comics and graphic novels, and a novel's adaptations into them."""

from __future__ import annotations

import re

from vibeshelf.catalog.books import Book

# Canonical genres that name a format, not what a book is about.
FORMAT_GENRES = frozenset(
    {"comics", "graphic novels", "manga", "shojo manga", "shonen manga", "picture books", "superheroes"}
)
# A title that says it is another work retold in a format: "The Hobbit: Graphic Novel".
_ADAPTATION = re.compile(
    r"\b(?:the )?(?:graphic novel|graphic adaptation|illustrated edition|manga edition|the manga"
    r"|pop-?up book|comic book adaptation)\b",
    re.IGNORECASE,
)
SPECIFIC = 3  # a book's most specific genres looked at


def is_adaptation(title: str) -> bool:
    """Whether a title names an edition of another work in a format ("... : Graphic Novel")."""
    return bool(_ADAPTATION.search(title))


def in_format(book: Book) -> bool:
    """Whether one of a book's most specific genres is a format (comics, manga...)."""
    return any(genre in FORMAT_GENRES for genre in book.genres[:SPECIFIC])


def format_work(book: Book) -> bool:
    """A book that is a comic or graphic novel in its own right (Watchmen), not an adaptation."""
    return in_format(book) and not is_adaptation(book.title)
