"""The filter vocabulary validates at construction."""

import pytest

from vibeshelf.index.filters import Filter, Range, Tag
from vibeshelf.search.filters import build_filter
from vibeshelf.search.query import QueryError
from vibeshelf.search.schemas import SearchParams


def test_tags_are_normalised() -> None:
    assert Tag.any_of("shelves", " Cozy-Mystery ").values == frozenset({"cozy-mystery"})


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tag.any_of("colour", "red"),
        lambda: Tag.any_of("shelves"),
        lambda: Range("pages", 1, 2),
        lambda: Range("year"),
        lambda: Range("year", 2000, 1990),
    ],
)
def test_invalid_clauses_raise(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        make()


def test_filters_combine_with_and() -> None:
    flt = Filter.of(Tag.any_of("language", "eng"), None) & Range("year", low=1990)
    assert len(flt.clauses) == 2
    assert not Filter.of(None)


def test_build_filter_from_request() -> None:
    params = SearchParams(q="x", shelves=["Fantasy"], genres=["Cozy Mystery"], year_min=1990,
                          year_max=2000, min_rating=4)
    clauses = build_filter(params, {"cozy mystery", "fantasy"}).clauses
    assert Tag.any_of("shelves", "fantasy") in clauses
    assert Tag.any_of("genres", "cozy mystery") in clauses
    assert Range("year", 1990, 2000) in clauses
    assert Range("average_rating", low=4) in clauses


def test_build_filter_reports_bad_ranges_as_query_errors() -> None:
    with pytest.raises(QueryError, match="low 2000"):
        build_filter(SearchParams(q="x", year_min=2000, year_max=1990), set())


def test_build_filter_refuses_a_genre_the_catalog_does_not_have() -> None:
    with pytest.raises(QueryError, match="unknown genre 'sci-fi'.*/api/genres"):
        build_filter(SearchParams(q="x", genres=["sci-fi"]), {"science fiction"})
