"""Retrieval quality on the sample: paraphrases of a shelf, without its words, find that shelf."""

from __future__ import annotations

from pathlib import Path

import pytest

from vibeshelf.search.schemas import SearchParams
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

# (query with none of the shelf's words, shelves counted as relevant, minimum hits in the top 10)
CASES = [
    ("a gentle whodunit where an amateur sleuth solves a murder in a quaint village",
     {"cozy-mystery", "mystery"}, 7),
    ("starships, interstellar battles and galactic empires", {"science-fiction", "sci-fi", "space"}, 7),
    ("a haunted house, creeping dread and a presence that will not rest", {"horror"}, 6),
    ("a young rider bonds with a fire-breathing winged beast", {"dragons"}, 3),
    ("two people fall deeply for each other despite everything keeping them apart", {"romance"}, 6),
    ("a novel set in occupied France under the Nazis", {"world-war-ii", "historical-fiction"}, 6),
]


@pytest.fixture(scope="module")
def runtime(sample_data_dir: Path) -> Runtime:
    settings = Settings(data_dir=sample_data_dir)
    settings.serve.query_log = False
    return Runtime.load(settings)


@pytest.mark.parametrize(("query", "shelves", "minimum"), CASES)
def test_paraphrase_finds_the_shelf(runtime: Runtime, query: str, shelves: set[str], minimum: int) -> None:
    words = set(query.lower().replace(",", " ").split())
    assert not any(part in words for shelf in shelves for part in shelf.split("-")), "query leaks"
    results = runtime.search.search(SearchParams(q=query, limit=10)).results
    on_shelf = [r.title for r in results if shelves & set(runtime.catalog.get(r.book_id).shelves)]
    assert len(on_shelf) >= minimum, [r.title for r in results]
