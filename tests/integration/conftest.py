"""Fixtures shared by the recommender integration tests (recs_dir and recs_model: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.settings import Settings


@pytest.fixture(scope="module")
def catalog_ids(recs_dir: Path) -> set[str]:
    return {b.book_id for b in BookCatalog.load(Settings(data_dir=recs_dir).books_path)}
