"""The embedded HNSW store: the shared contract plus persistence and atomic builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.contracts.vector_store import VectorStoreContract, manifest, sample_records
from vibeshelf.index import hnsw
from vibeshelf.index.base import StoreError
from vibeshelf.index.filters import Filter, Tag
from vibeshelf.index.hnsw import HnswParams, HnswStore


class TestHnswContract(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> HnswStore:
        return HnswStore(tmp_path / "index", HnswParams(m=16, ef_construction=100, ef_search=64))


class TestHnswGraphPath(VectorStoreContract):
    """The same contract with exact search disabled, so filtered queries walk the graph."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> HnswStore:
        return HnswStore(tmp_path / "index", HnswParams(m=16, ef_search=64, exact_limit=0))


def test_reopened_store_serves_the_same_build(tmp_path: Path) -> None:
    records = sample_records()
    first = HnswStore(tmp_path)
    first.rebuild(records, manifest())
    again = HnswStore(tmp_path)
    assert again.manifest.build_id == first.manifest.build_id
    assert again.count() == len(records)
    assert again.knn(records.vectors[7], 1)[0].id == "b7"
    assert [h.id for h in again.knn(records.vectors[0], 5, Filter.of(Tag.any_of("shelves", "fantasy")))]


def test_failed_build_keeps_the_good_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = HnswStore(tmp_path)
    store.rebuild(sample_records(), manifest())
    good = store.manifest.build_id

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(hnsw.np, "save", crash)
    with pytest.raises(OSError):
        store.rebuild(sample_records(n=50, seed=3), manifest())
    monkeypatch.undo()
    reopened = HnswStore(tmp_path)
    assert reopened.manifest.build_id == good
    assert reopened.count() == 200
    assert not list(tmp_path.glob(".tmp-*"))


def test_old_builds_are_pruned(tmp_path: Path) -> None:
    store = HnswStore(tmp_path, HnswParams(keep_builds=2))
    for seed in range(4):
        store.rebuild(sample_records(n=20, seed=seed), manifest())
    builds = sorted(p.name for p in (tmp_path / "builds").iterdir())
    assert len(builds) == 2
    assert store.manifest.build_id in builds


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    store = HnswStore(tmp_path / "nothing")
    with pytest.raises(StoreError, match="vibeshelf index"):
        store.knn(np.ones(16, np.float32), 3)
