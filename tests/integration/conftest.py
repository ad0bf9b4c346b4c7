"""Fixtures shared by integration tests: the real goodbooks ingest, and for the recommender tests
the catalog ids of recs_dir (recs_dir and recs_model: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, unavailable
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.goodbooks import ingest_goodbooks
from vibeshelf.catalog.table import IngestReport
from vibeshelf.settings import Settings


@pytest.fixture(scope="session")
def source_dir() -> Path:
    if not (SHARED_DATA / "goodbooks-10k" / "books.csv").is_file():
        unavailable(f"the goodbooks-10k data is not at {SHARED_DATA} (see its README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ingested(source_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> IngestReport:
    """The full goodbooks-10k catalog from ../shared/data, ingested once for the session."""
    return ingest_goodbooks(source_dir, tmp_path_factory.mktemp("catalog") / "books.parquet")


@pytest.fixture(scope="module")
def catalog_ids(recs_dir: Path) -> set[str]:
    return {b.book_id for b in BookCatalog.load(Settings(data_dir=recs_dir).books_path)}
