"""The search pipeline on the real sample index: filters, ranking, de-duplication, logging."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from tests.conftest import run_cli
from vibeshelf.search.models import SearchParams
from vibeshelf.search.query import QueryError
from vibeshelf.search.ranking import title_key
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings


@pytest.fixture(scope="module")
def runtime(sample_data_dir: Path) -> Runtime:
    settings = Settings(data_dir=sample_data_dir)
    settings.serve.query_log = False
    return Runtime.load(settings)


def search(runtime: Runtime, **kwargs: object):  # type: ignore[no-untyped-def]
    return runtime.search.search(SearchParams(**kwargs)).results  # type: ignore[arg-type]


def test_vector_results_are_in_rank_order_with_similarity_dominating(runtime: Runtime) -> None:
    results = search(runtime, q="sprawling multi-generational family saga", limit=30, mode="vector")
    assert len(results) == 30
    scores = [r.rank_score for r in results]
    assert scores == sorted(scores, reverse=True)
    weight = runtime.settings.search.popularity_weight
    for a, b in pairwise(results):
        assert a.score > b.score - weight - 1e-6


def test_filters_hold_on_every_result(runtime: Runtime) -> None:
    results = search(runtime, q="magic school", shelves=["fantasy"], year_min=1995,
                     year_max=2005, min_rating=4.0, language="eng", limit=50)
    assert results
    for r in results:
        book = runtime.catalog.get(r.book_id)
        assert "fantasy" in book.shelves
        assert 1995 <= book.year <= 2005
        assert book.average_rating >= 4.0
        assert book.language == "eng"


def test_no_two_results_are_editions_of_one_work(runtime: Runtime) -> None:
    results = search(runtime, q="the lord of the rings", limit=50)
    works = [runtime.catalog.get(r.book_id).work_id for r in results]
    titles = [title_key(r.title, r.authors[0]) for r in results]
    assert len(set(works)) == len(works)
    assert len(set(titles)) == len(titles)


def test_long_query_is_truncated_not_rejected(runtime: Runtime) -> None:
    response = runtime.search.search(SearchParams(q="a lonely lighthouse keeper " * 100))
    assert response.truncated
    assert len(response.query) <= runtime.settings.search.max_query_chars
    assert response.results


def test_empty_query_raises(runtime: Runtime) -> None:
    with pytest.raises(QueryError):
        runtime.search.search(SearchParams(q=" \n "))


def test_cli_search_prints_results_and_rejects_empty_queries(sample_data_dir: Path) -> None:
    out = run_cli("search", "funny sci-fi", "--limit", "3", data_dir=sample_data_dir)
    assert len(out.stdout.strip().splitlines()) == 3
    bad = run_cli("search", "   ", data_dir=sample_data_dir, check=False)
    assert bad.returncode == 2
    assert "empty" in bad.stderr
