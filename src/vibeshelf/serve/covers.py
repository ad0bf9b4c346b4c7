"""A cover placeholder for a book: the title's initials on one of a few tones chosen by its id."""

from __future__ import annotations

import re
import zlib

TONES = 8
_SERIES = re.compile(r"\([^)]*\)")
_ARTICLES = frozenset({"the", "a", "an"})


def initials(title: str) -> str:
    """Up to two initials of the title's words, a leading article and a series note left out."""
    words = re.findall(r"\w+", _SERIES.sub(" ", title)) or re.findall(r"\w+", title)
    if len(words) > 1 and words[0].lower() in _ARTICLES:
        words = words[1:]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def cover_tone(book_id: str) -> int:
    """A stable tone number in [0, TONES) for the book, so its placeholder looks the same everywhere."""
    return zlib.crc32(book_id.encode()) % TONES


def real_cover(url: str | None) -> bool:
    """Whether `url` is a cover of the book, not missing or the image host's "no photo" stand-in."""
    return bool(url) and "/nophoto/" not in url  # type: ignore[operator]
