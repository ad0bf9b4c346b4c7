"""The text embedded for each book: title, authors, then canonical genres before the blurb."""

from __future__ import annotations

from collections.abc import Sequence

MAX_GENRES = 12
MAX_DESCRIPTION_CHARS = 1500


def build_document(
    title: str,
    authors: Sequence[str] | None,
    genres: Sequence[str] | None,
    description: str | None,
) -> str:
    """"{title} by {authors}. Genres: {genres}. {description}", leaving out empty parts; genres
    most specific first, so that truncation drops the broad ones."""
    head = f"{title} by {', '.join(authors)}" if authors else title
    parts = [_sentence(head)]
    if genres:
        parts.append(f"Genres: {', '.join(genres[:MAX_GENRES])}.")
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
