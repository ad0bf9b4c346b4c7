"""A generated description is marked as such in the search API, on result cards and on a book's page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_cli
from vibeshelf.catalog.custom import FIELDS
from vibeshelf.catalog.schema import ARROW_SCHEMA, read_books
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

QUERY = "cozy small-town mystery with a cat"
BADGE = re.compile(r'class="[^"]*generated-description')


@pytest.fixture(scope="module")
def client(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, set[str]]]:
    """The sample (with its recommender) and every other book's description marked generated,
    ingested with `ingest file`, embedded and indexed; a client of its app and the generated
    books' ids."""
    data_dir = tmp_path_factory.mktemp("generated")
    shutil.copytree(sample_data_dir / "embeddings", data_dir / "embeddings")  # reused by hash
    shutil.copytree(sample_data_dir / "models", data_dir / "models")  # a book's page shows its neighbours
    rows = read_books(sample_data_dir / "catalog" / "books.parquet").to_pylist()
    for n, row in enumerate(rows):
        row["description_source"] = "generated" if n % 2 else "publisher"
    generated = {row["book_id"] for row in rows if row["description_source"] == "generated"}
    edited = data_dir / "marked.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), edited)
    run_cli("ingest", "file", str(edited), *(f"--map={f}={f}" for f in FIELDS), data_dir=data_dir)
    run_cli("embed", data_dir=data_dir)
    run_cli("index", data_dir=data_dir)
    settings = Settings(data_dir=data_dir, auth={"enabled": False})
    settings.serve.query_log = False
    with TestClient(create_app(settings)) as test_client:
        yield test_client, generated


def test_the_api_says_where_each_description_came_from(client: tuple[TestClient, set[str]]) -> None:
    http, generated = client
    response = http.get("/api/search", params={"q": QUERY, "limit": 20})
    assert response.status_code == 200
    results = response.json()["results"]
    sources = {r["book_id"]: r["description_source"] for r in results}
    assert set(sources.values()) == {"publisher", "generated"}  # both kinds among 20 results
    assert sources == {b: "generated" if b in generated else "publisher" for b in sources}


def test_cards_and_the_book_page_mark_generated_summaries(client: tuple[TestClient, set[str]]) -> None:
    http, generated = client
    results = http.get("/api/search", params={"q": QUERY, "limit": 10}).json()["results"]
    page = http.get("/", params={"q": QUERY})
    assert page.status_code == 200
    cards = page.text.split('<li class="card mb-3 result">')[1:]
    assert len(cards) == len(results)
    marked = [bool(BADGE.search(card)) for card in cards]
    assert marked == [r["book_id"] in generated for r in results] and any(marked) and not all(marked)
    one = next(r["book_id"] for r in results if r["book_id"] in generated)
    other = next(r["book_id"] for r in results if r["book_id"] not in generated)
    book_card = http.get(f"/books/{one}").text.split('<li class="card mb-3 result">')[1]
    assert BADGE.search(book_card) and "Generated summary" in book_card
    assert not BADGE.search(http.get(f"/books/{other}").text.split('<li class="card mb-3 result">')[1])
