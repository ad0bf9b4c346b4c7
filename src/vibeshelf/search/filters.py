"""The store filter for a search request, and the same filter as a predicate on catalog books."""

from __future__ import annotations

from collections.abc import Callable, Collection

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.index.filters import Filter, Range, Tag, normalize_tag
from vibeshelf.search.query import QueryError
from vibeshelf.search.schemas import SearchParams


def build_filter(params: SearchParams, genres: Collection[str]) -> Filter:
    """The store filter for a request's optional constraints; `genres` are the catalog's, the only
    ones a request may name."""
    unknown = [g for g in params.genres if normalize_tag(g) not in genres]
    if unknown:
        raise QueryError(
            f"unknown genre {unknown[0]!r}: name one of the catalog's genres (GET /api/genres)"
        )
    try:
        return Filter.of(
            Tag.any_of("shelves", *params.shelves) if params.shelves else None,
            Tag.any_of("genres", *params.genres) if params.genres else None,
            Range("year", params.year_min, params.year_max)
            if params.year_min is not None or params.year_max is not None
            else None,
            Range("average_rating", low=params.min_rating) if params.min_rating is not None else None,
            Tag.any_of("language", params.language) if params.language else None,
        )
    except ValueError as exc:
        raise QueryError(str(exc)) from exc


def keeper(filters: Filter, catalog: BookCatalog) -> Callable[[str], bool] | None:
    """A predicate on catalog book ids for `filters`; None when there are none."""
    if not filters:
        return None

    def keep(book_id: str) -> bool:
        book = catalog.get(book_id)
        return book is not None and filters.matches(book.index_fields())

    return keep
