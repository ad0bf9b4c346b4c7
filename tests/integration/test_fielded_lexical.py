"""On the real sample index: fielded BM25 (the build's fields, the weights a setting gives them) and
vibe queries whose shelf abbreviations are spelled out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from vibeshelf.config.lexical import LexicalFieldWeights
from vibeshelf.index.filters import Filter
from vibeshelf.search.lexical import tokenize
from vibeshelf.search.lexical_fields import FIELDS
from vibeshelf.search.schemas import SearchParams
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

QUERY = "a haunted house and a family's secrets"


@pytest.fixture(scope="module")
def runtime(sample_data_dir: Path) -> Runtime:
    settings = Settings(data_dir=sample_data_dir)
    settings.serve.query_log = False
    return Runtime.load(settings)


def test_index_builds_every_field_and_search_sums_them_by_the_settings_weights(runtime: Runtime) -> None:
    lexical = runtime.search.lexical
    assert lexical is not None and lexical.manifest.fields == list(FIELDS)
    weights = runtime.search.settings.lexical_fields.model_dump()
    found = runtime.search.retrieve(QUERY, "lexical", Filter(), 30)
    assert found.bm25 is not None and found.lexical_ids
    expected = sum(w * lexical.field_scores(QUERY, name) for name, w in weights.items())
    rows = [lexical.position[i] for i in found.lexical_ids]
    np.testing.assert_allclose(found.bm25[rows], np.asarray(expected)[rows], rtol=1e-5)


def test_a_title_only_weighting_ranks_by_title_words(runtime: Runtime) -> None:
    by_title = runtime.search.with_settings(
        runtime.search.settings.model_copy(update={"lexical_fields": LexicalFieldWeights(document=0, title=1)})
    )
    word = "house"
    (stem,) = tokenize(word)
    results = by_title.search(SearchParams(q=word, mode="lexical", limit=5)).results
    assert results and all(stem in tokenize(r.title) for r in results)
    default = runtime.search.search(SearchParams(q=word, mode="lexical", limit=50)).results
    assert any(stem not in tokenize(r.title) for r in default)  # the default reads the other fields too


def test_a_negative_field_weight_is_refused_with_the_setting_named(sample_data_dir: Path) -> None:
    result = run_cli(
        "search", "cozy mystery", data_dir=sample_data_dir, check=False,
        env={"VIBESHELF_SEARCH__LEXICAL_FIELDS__TITLE": "-1"},
    )
    assert result.returncode == 2
    assert "lexical_fields" in result.stdout + result.stderr



def test_an_abbreviation_in_a_vibe_query_searches_as_spelled_out(runtime: Runtime) -> None:
    def ids(query: str) -> list[str]:
        return [r.book_id for r in runtime.search.search(SearchParams(q=query, limit=10)).results]

    assert ids("dark YA fantasy") == ids("dark young adult fantasy")
    assert ids("dark YA fantasy") != ids("dark fantasy")
