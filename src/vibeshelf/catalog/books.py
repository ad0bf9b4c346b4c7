"""The books table held in memory for serving: lookup by id, popularity scale, shelf and genre counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vibeshelf.catalog.schema import read_books


@dataclass(frozen=True)
class Book:
    """One catalog row, as served."""

    book_id: str
    title: str
    authors: list[str]
    year: int | None
    language: str | None
    average_rating: float | None
    ratings_count: int
    shelves: list[str]
    description: str | None
    url: str | None
    cover_url: str | None
    work_id: str | None
    description_source: str | None = None  # "publisher", "generated" (a language model's summary)
    genres: list[str] = field(default_factory=list)  # canonical, most specific first

    def index_fields(self) -> dict[str, object]:
        """The filterable fields a vector store keeps beside the vector."""
        return {
            "year": self.year,
            "average_rating": self.average_rating,
            "ratings_count": self.ratings_count,
            "language": self.language,
            "shelves": self.shelves,
            "genres": self.genres,
        }


class BookCatalog:
    """Books by id, in catalog order."""

    def __init__(self, books: list[Book]) -> None:
        self._books = {b.book_id: b for b in books}
        self.max_ratings_count = max((b.ratings_count for b in books), default=0)
        self.shelf_counts: Counter[str] = Counter(s for b in books for s in b.shelves)
        self.genre_counts: Counter[str] = Counter(g for b in books for g in b.genres)

    @classmethod
    def load(cls, path: Path) -> BookCatalog:
        if not path.is_file():
            raise FileNotFoundError(f"no catalog at {path}: run `vibeshelf ingest` first")
        rows = read_books(path).select(list(Book.__dataclass_fields__)).to_pylist()
        return cls([Book(**_clean(row)) for row in rows])

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self) -> Iterator[Book]:
        return iter(self._books.values())

    def __contains__(self, book_id: object) -> bool:
        return book_id in self._books

    def get(self, book_id: str) -> Book | None:
        return self._books.get(book_id)


def _clean(row: dict[str, object]) -> dict[str, object]:
    row["authors"] = list(row.get("authors") or [])
    row["shelves"] = list(row.get("shelves") or [])
    row["genres"] = list(row.get("genres") or [])
    row["ratings_count"] = int(row.get("ratings_count") or 0)
    return row
