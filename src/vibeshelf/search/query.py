"""Query sanitising: trim, strip control characters, collapse whitespace, cap the length."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WHITESPACE = re.compile(r"\s+")
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")  # where a query's sentences part


class QueryError(ValueError):
    """A query that cannot be searched (empty after cleaning)."""


@dataclass(frozen=True)
class CleanQuery:
    """The text to encode, and whether it was cut to the length cap."""

    text: str
    truncated: bool


def sanitize_query(raw: str | None, max_chars: int) -> CleanQuery:
    """Clean a user's query; raise QueryError when nothing searchable is left."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = _WHITESPACE.sub(" ", text).strip()
    if not text:
        raise QueryError("query is empty: type a few words about the book you want")
    truncated = len(text) > max_chars
    if truncated:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut[max_chars // 2 :] else cut
    return CleanQuery(text, truncated)
