"""A server started before `vibeshelf embed` wrote the description vectors answers at once and
reads them when they are written (what the demo does to serve sooner)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.conftest import run_cli
from vibeshelf.embed.vectors import embeddings_path
from vibeshelf.search.schemas import SearchParams
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

QUERY = "a haunted house on a lonely moor"


def test_search_answers_without_description_vectors_then_reads_them_once_written(
    sample_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(sample_data_dir, data_dir)
    settings = Settings(data_dir=data_dir)
    descriptions = embeddings_path(settings.embeddings_dir, settings.model.name, "description")
    with_descriptions = Runtime.load(settings).search.search(SearchParams(q=QUERY)).results
    shutil.rmtree(descriptions)

    runtime = Runtime.load(settings)
    assert runtime.search.retriever.descriptions is None
    before = runtime.search.search(SearchParams(q=QUERY)).results
    assert len(before) == len(with_descriptions) > 0

    run_cli("embed", "--only", "description", data_dir=data_dir)
    deadline = time.monotonic() + 30
    while runtime.search.retriever.descriptions is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runtime.search.retriever.descriptions is not None
    after = runtime.search.search(SearchParams(q=QUERY)).results
    assert [r.book_id for r in after] == [r.book_id for r in with_descriptions]
    assert [r.book_id for r in before] != [r.book_id for r in with_descriptions]


def test_embed_only_takes_a_field_name(sample_data_dir: Path) -> None:
    result = run_cli("embed", "--only", "blurb", data_dir=sample_data_dir, check=False)
    assert result.returncode == 2 and "--only takes document or description" in result.stderr
