"""What the second stage knows about each book: genre, language, rating, year, description, series."""

from __future__ import annotations

from dataclasses import dataclass

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.series import collected_series, series_key


@dataclass(frozen=True)
class BookFacts:
    """A book's fields that features, rules and boosts read."""

    genres: tuple[str, ...] = ()
    language: str | None = None
    average_rating: float | None = None
    ratings_count: int = 0
    year: int | None = None
    has_description: bool = False
    series: tuple[str, float] | None = None  # (series key, number): ("the hunger games", 2.0)
    collects: str | None = None  # the series key an omnibus or box set collects

    @property
    def genre(self) -> str | None:
        """The canonical genre: the book's first, most specific one."""
        return self.genres[0] if self.genres else None


def book_facts(catalog: BookCatalog) -> dict[str, BookFacts]:
    """Facts per book id."""
    return {
        b.book_id: BookFacts(
            tuple(b.genres),
            b.language,
            b.average_rating,
            b.ratings_count,
            b.year,
            bool(b.description and b.description.strip()),
            series_key(b.title),
            collected_series(b.title),
        )
        for b in catalog
    }
