"""Fixtures shared by the recommender integration tests: one trained data dir per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contracts.recommender import load_test_model, recs_data_dir
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.settings import Settings


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recs_data_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def recs_model(data_dir: Path) -> RecsModel:
    return load_test_model(data_dir)


@pytest.fixture(scope="module")
def catalog_ids(data_dir: Path) -> set[str]:
    return {b.book_id for b in BookCatalog.load(Settings(data_dir=data_dir).books_path)}
