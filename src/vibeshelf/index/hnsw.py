"""The embedded default store: an hnswlib HNSW index in a data directory, swapped atomically."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import hnswlib
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.index.base import Hit, IndexManifest, Records, VectorStore
from vibeshelf.index.filters import Filter
from vibeshelf.index.hnsw_snapshot import Snapshot, field_columns
from vibeshelf.index.storelib import log_build, new_build_id, stamp
from vibeshelf.storage import builds
from vibeshelf.storage.errors import StoreError

INDEX_FILE = "index.bin"
VECTORS_FILE = "vectors.npy"
RECORDS_FILE = "records.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class HnswParams:
    """HNSW graph parameters and when to search exactly instead."""

    m: int = 32
    ef_construction: int = 200
    ef_search: int = 128
    keep_builds: int = 2
    exact_limit: int = 50_000

    def graph(self) -> dict[str, int]:
        """The graph parameters a manifest records."""
        return {"m": self.m, "ef_construction": self.ef_construction, "ef_search": self.ef_search}


class HnswStore(VectorStore):
    """hnswlib graph + exact fallback for selective filters; every write is a new atomic build."""

    def __init__(
        self,
        root: Path,
        params: HnswParams | None = None,
        build_id: str | None = None,
        load: bool = True,
    ) -> None:
        """Serves CURRENT, or the given build (read only) when `build_id` pins one; `load=False`
        serves nothing until the first rebuild (a rebuild needs no readable build before it).

        The served build is leased while it is served: pruning by other processes keeps it.
        """
        self.root = Path(root)
        self.params = params or HnswParams()
        self.pinned = build_id
        self._write_lock = threading.Lock()
        self._lease: IO[str] | None = None
        self._snap: Snapshot | None = self._load_current() if load else None

    # ---- reading -------------------------------------------------------------------------
    @property
    def manifest(self) -> IndexManifest:
        return self._require().manifest

    @property
    def build_id(self) -> str | None:
        return self._snap.manifest.build_id if self._snap else None

    def count(self) -> int:
        return self._snap.count if self._snap else 0

    def knn(self, vector: np.ndarray, k: int, filters: Filter | None = None) -> list[Hit]:
        snap = self._require()
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != snap.vectors.shape[1]:
            raise ValueError(f"query has dim {query.shape[1]}, index has {snap.vectors.shape[1]}")
        if k <= 0 or snap.count == 0:
            return []
        mask = snap.mask(filters) if filters else None
        allowed = snap.count if mask is None else int(mask.sum())
        if allowed == 0:
            return []
        k = min(k, allowed)
        if mask is not None and (allowed <= self.params.exact_limit or allowed < 0.05 * snap.count):
            return self._exact(snap, query[0], k, mask)
        try:
            labels, distances = snap.index.knn_query(
                query, k=k, num_threads=1, filter=None if mask is None else mask.__getitem__
            )
        except RuntimeError:  # the graph walk found fewer than k matches under a filter
            return self._exact(snap, query[0], k, mask if mask is not None else snap.live)
        ids = snap.ids
        return list(map(Hit, [ids[label] for label in labels[0].tolist()], (1.0 - distances[0]).tolist()))

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> list[float | None]:
        snap = self._require()
        labels = [snap.label_of.get(i) for i in ids]
        known = [label for label in labels if label is not None]
        sims = iter((snap.vectors[known] @ np.asarray(vector, np.float32)).tolist() if known else [])
        return [None if label is None else next(sims) for label in labels]

    @staticmethod
    def _exact(snap: Snapshot, query: np.ndarray, k: int, mask: np.ndarray) -> list[Hit]:
        labels = np.flatnonzero(mask)
        sims = snap.vectors[labels] @ query
        top = np.argpartition(-sims, k - 1)[:k] if k < len(labels) else np.arange(len(labels))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [Hit(snap.ids[labels[i]], float(sims[i])) for i in top]  # type: ignore[arg-type]

    def health(self) -> dict[str, Any]:
        snap = self._snap
        return {
            "ok": snap is not None and snap.count > 0,
            "backend": "hnsw",
            "path": str(self.root),
            "count": self.count(),
            "build_id": snap.manifest.build_id if snap else None,
            "latest_build_id": builds.current_build(self.root),
        }

    def _require(self) -> Snapshot:
        if self._snap is None:
            raise StoreError(f"no index at {self.root}: build one with `vibeshelf index`")
        return self._snap

    # ---- writing -------------------------------------------------------------------------
    def rebuild(self, records: Records, manifest: IndexManifest) -> None:
        with self._write_lock:
            started = time.perf_counter()
            dim = records.vectors.shape[1]
            index = self._new_graph(dim, max(1, len(records)))
            if len(records):
                index.add_items(records.vectors, np.arange(len(records)))
            manifest = replace(manifest, dim=dim, count=len(records), backend="hnsw")
            self._commit(index, records.vectors, list(records.ids), records.fields, manifest, started)

    def upsert(self, records: Records) -> None:
        with self._write_lock:
            started = time.perf_counter()
            snap = self._require()
            index = self._copy_graph(snap, extra=len(records))
            ids: list[str | None] = list(snap.ids)
            fields = snap.fields()
            labels = []
            for rid, field in zip(records.ids, records.fields, strict=True):
                label = snap.label_of.get(rid)
                if label is None:
                    label = len(ids)
                    ids.append(rid)
                    fields.append(field)
                else:
                    fields[label] = field
                labels.append(label)
            grown = np.zeros((len(ids) - len(snap.ids), snap.vectors.shape[1]), np.float32)
            all_vectors = np.vstack([snap.vectors, grown])
            all_vectors[labels] = records.vectors
            index.add_items(records.vectors, np.asarray(labels))
            manifest = replace(snap.manifest, count=sum(i is not None for i in ids))
            self._commit(index, all_vectors, ids, fields, manifest, started)

    def delete(self, ids: Sequence[str]) -> int:
        with self._write_lock:
            started = time.perf_counter()
            snap = self._require()
            labels = [snap.label_of[i] for i in dict.fromkeys(ids) if i in snap.label_of]
            if not labels:
                return 0
            index = self._copy_graph(snap)
            new_ids: list[str | None] = list(snap.ids)
            for label in labels:
                index.mark_deleted(label)
                new_ids[label] = None
            manifest = replace(snap.manifest, count=snap.count - len(labels))
            self._commit(index, snap.vectors, new_ids, snap.fields(), manifest, started)
            return len(labels)

    def drop(self) -> None:
        with self._write_lock:
            self._release()
            shutil.rmtree(self.root, ignore_errors=True)
            self._snap = None

    def _new_graph(self, dim: int, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="cosine", dim=dim)
        index.init_index(
            max_elements=capacity, M=self.params.m, ef_construction=self.params.ef_construction,
            random_seed=42,
        )
        index.set_ef(self.params.ef_search)
        return index

    def _copy_graph(self, snap: Snapshot, extra: int = 0) -> hnswlib.Index:
        """A private copy of the served graph (writers never touch what readers search)."""
        path = self._build_dir(snap.manifest.build_id) / INDEX_FILE
        index = hnswlib.Index(space="cosine", dim=snap.vectors.shape[1])
        index.load_index(str(path), max_elements=len(snap.ids) + extra, allow_replace_deleted=False)
        index.set_ef(self.params.ef_search)
        return index

    def _commit(
        self,
        index: hnswlib.Index,
        vectors: np.ndarray,
        ids: list[str | None],
        fields: Sequence[dict[str, Any]],
        manifest: IndexManifest,
        started: float,
    ) -> None:
        """Write a complete build beside the served one, then point CURRENT at it."""
        build_id = new_build_id()
        manifest = stamp(manifest, build_id, started, self.params.graph())
        columns = field_columns(fields)

        def write(tmp: Path) -> None:
            index.save_index(str(tmp / INDEX_FILE))
            np.save(tmp / VECTORS_FILE, vectors)
            pq.write_table(pa.table({"id": ids, **columns}), tmp / RECORDS_FILE)
            (tmp / MANIFEST_FILE).write_text(json.dumps(manifest.to_dict(), indent=2))

        builds.publish(self.root, build_id, write)
        self._snap = Snapshot(index, vectors, ids, columns, manifest)
        self._release()
        builds.prune(self.root, {build_id}, self.params.keep_builds)
        log_build(manifest)

    def _build_dir(self, build_id: str) -> Path:
        return builds.build_dir(self.root, build_id)

    def _load_current(self) -> Snapshot | None:
        """Lease and load the pinned build or the one CURRENT names (read again if a writer
        replaced and pruned it in between)."""
        for _ in range(3):
            build_id = self.pinned or builds.current_build(self.root)
            if build_id is None:
                return None
            try:
                self._lease = builds.hold(self.root, build_id)
            except FileNotFoundError:
                if self.pinned:
                    raise StoreError(f"index build {build_id} is not in {self.root}") from None
                continue
            try:
                return self._load(self._build_dir(build_id))
            except BaseException:
                self._release()
                raise
        raise StoreError(f"index builds in {self.root} keep changing: try again")

    def _load(self, build: Path) -> Snapshot:
        builds.verify(build)
        try:
            manifest = IndexManifest.from_dict(json.loads((build / MANIFEST_FILE).read_text()))
            vectors = np.load(build / VECTORS_FILE, mmap_mode="r")
            table = pq.read_table(build / RECORDS_FILE).to_pydict()
            index = hnswlib.Index(space="cosine", dim=manifest.dim)
            index.load_index(str(build / INDEX_FILE), max_elements=len(table["id"]))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise StoreError(f"index build {build} is unreadable: {exc}") from exc
        index.set_ef(self.params.ef_search)
        return Snapshot(index, vectors, table["id"], table, manifest)

    def _release(self) -> None:
        """Give up the lease on the build served so far."""
        if self._lease is not None:
            self._lease.close()
            self._lease = None
