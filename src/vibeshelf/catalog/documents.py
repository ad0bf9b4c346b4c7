"""The text embedded for each book: title, authors, then shelves before the blurb (truncation)."""

from __future__ import annotations

from collections.abc import Sequence

from vibeshelf.catalog.shelves import shelf_phrase

MAX_SHELVES = 20
MAX_DESCRIPTION_CHARS = 1500


def build_document(
    title: str,
    authors: Sequence[str] | None,
    shelves: Sequence[str] | None,
    description: str | None,
) -> str:
    """"{title} by {authors}. Shelves: {phrases}. {description}", leaving out empty parts."""
    head = f"{title} by {', '.join(authors)}" if authors else title
    parts = [_sentence(head)]
    phrases = list(dict.fromkeys(shelf_phrase(s) for s in shelves or ()))[:MAX_SHELVES]
    if phrases:
        parts.append(f"Shelves: {', '.join(phrases)}.")
    if description:
        parts.append(_truncate(description, MAX_DESCRIPTION_CHARS))
    return " ".join(parts)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return f"{cut.rstrip(' ,;:')}…"
