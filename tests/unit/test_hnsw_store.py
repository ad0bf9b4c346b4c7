"""The embedded HNSW store: the shared contract plus persistence and atomic builds."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from tests.contracts.vector_store import VectorStoreContract, manifest, sample_records
from vibeshelf.index import hnsw
from vibeshelf.index.filters import Filter, Tag
from vibeshelf.index.hnsw import HnswParams, HnswStore
from vibeshelf.storage import builds
from vibeshelf.storage.errors import StoreError


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


def write_lexical_like(tmp: Path) -> None:
    """A build with a subdirectory, as the BM25 index writes one."""
    (tmp / "bm25").mkdir()
    (tmp / "bm25" / "params.json").write_text("{}")
    (tmp / "ids.json").write_text("[]")


def test_publish_fsyncs_the_whole_tree_and_the_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path.resolve() / "lexical"
    synced: list[Path] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(builds.os, "fsync", fsync)
    builds.publish(root, "b1", write_lexical_like)
    tmp = root / ".tmp-b1"
    for path in (tmp / "bm25" / "params.json", tmp / "bm25", tmp / "ids.json", tmp):
        assert path in synced
    assert synced.index(tmp / "bm25" / "params.json") < synced.index(tmp / "bm25")
    assert synced.index(root / "builds") > synced.index(tmp)  # the rename into builds/
    assert synced[-1] == root  # the rename of CURRENT
    assert (root / "builds" / "b1" / "bm25" / "params.json").is_file()


KILLED_BUILD = """
import sys, time
from pathlib import Path
from vibeshelf.storage import builds

def write(tmp):
    (tmp / "half.bin").write_bytes(b"x" * 1024)
    print("writing", flush=True)
    time.sleep(120)

builds.publish(Path(sys.argv[1]), "20000101T000000-dead", write)
"""


def test_the_next_build_removes_what_a_killed_build_left(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(tmp_path)], cwd=REPO,
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert [p.name for p in tmp_path.glob(".tmp-*")] == [".tmp-20000101T000000-dead"]
    store = HnswStore(tmp_path)
    store.rebuild(sample_records(n=20), manifest())
    assert not list(tmp_path.glob(".tmp-*"))
    assert HnswStore(tmp_path).count() == 20


def test_a_second_writer_waits_for_the_build_being_written(tmp_path: Path) -> None:
    writing, finish = threading.Event(), threading.Event()

    def slow_write(tmp: Path) -> None:
        write_lexical_like(tmp)
        writing.set()
        assert finish.wait(timeout=30)

    slow = threading.Thread(target=builds.publish, args=(tmp_path, "b1", slow_write))
    slow.start()
    assert writing.wait(timeout=30)
    second = threading.Thread(target=builds.publish, args=(tmp_path, "b2", write_lexical_like))
    second.start()
    try:
        second.join(timeout=1)
        assert second.is_alive()  # queued behind b1
        assert (tmp_path / ".tmp-b1" / "bm25" / "params.json").is_file()
    finally:
        finish.set()
        slow.join(timeout=30)
        second.join(timeout=30)
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == ["b1", "b2"]
    assert builds.current_build(tmp_path) == "b2"


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
