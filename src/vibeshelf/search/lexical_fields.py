"""The text of each field BM25 indexes on its own, read from whatever columns a books table has."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vibeshelf.catalog.shelves import shelf_phrase

# "document" is the whole-book text the vector side embeds too; the others are its parts, so a
# query word can count differently in a title, a name, a blurb or a genre.
FIELDS: tuple[str, ...] = ("document", "title", "authors", "description", "shelves")


def field_texts(table: Mapping[str, Sequence[object]], count: int) -> dict[str, list[str]]:
    """Each field's text per book of a books table given as columns (`count` rows). A column the
    table lacks, or a null cell, is empty text: a catalog with only descriptions indexes only
    those, and its placeholder titles stay what they are."""

    def column(name: str) -> Sequence[Any]:
        return table.get(name) or [None] * count

    def words(values: object) -> str:
        return " ".join(str(v) for v in values) if isinstance(values, list) else ""

    return {
        "document": [str(d or "") for d in column("document")],
        "title": [str(t or "") for t in column("title")],
        "authors": [words(a) for a in column("authors")],
        "description": [str(d or "") for d in column("description")],
        "shelves": [
            f"{words(genres)} {words([shelf_phrase(str(s)) for s in shelves or ()])}".strip()
            for genres, shelves in zip(column("genres"), column("shelves"), strict=True)
        ],
    }
