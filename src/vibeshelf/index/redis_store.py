"""Vectors in Redis with RediSearch: an HNSW index per build, served through an alias."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import redis

from vibeshelf.config.core import VectorDtype
from vibeshelf.index import storelib
from vibeshelf.index.base import Hit, IndexManifest, Records, VectorStore
from vibeshelf.index.filters import NUMERIC_FIELDS, TAG_FIELDS, Filter
from vibeshelf.index.hnsw import HnswParams
from vibeshelf.index.redis_query import VECTOR_TYPES, as_stored, cosine, document, redis_query
from vibeshelf.storage.errors import StoreError
from vibeshelf.storage.urls import redacted

DEFAULT_NAME = "vibeshelf"
BATCH_SIZE = 1000


class RedisStore(VectorStore):
    """`redis://host:port/db?prefix=NAME`: alias NAME serves index NAME:idx:<build>.

    Records are hashes under NAME:doc:<build>:<id>; NAME:current holds the served build id and
    NAME:manifest:<build> each build's manifest. A rebuild fills a new index, then switches the
    alias and the pointer in one transaction and drops the old index with its documents.
    A rebuild stores `vector_dtype` vectors; reads and upserts use the served build's dtype.
    """

    def __init__(
        self,
        url: str,
        params: HnswParams | None = None,
        batch_size: int = BATCH_SIZE,
        vector_dtype: VectorDtype = "float32",
    ) -> None:
        self.url = url
        server, self.name = storelib.pop_url_option(url, "prefix", DEFAULT_NAME)
        self.params = params or HnswParams()
        self.batch_size = batch_size
        self.vector_dtype = vector_dtype
        # RESP2 on every redis-py version, so FT.SEARCH replies have one shape.
        self._client = redis.Redis.from_url(server, protocol=2)
        self._write_lock = threading.Lock()
        self._cached: IndexManifest | None = None

    # ---- names ---------------------------------------------------------------------------
    def _index(self, build_id: str) -> str:
        return f"{self.name}:idx:{build_id}"

    def _doc_prefix(self, build_id: str) -> str:
        return f"{self.name}:doc:{build_id}:"

    def _manifest_key(self, build_id: str) -> str:
        return f"{self.name}:manifest:{build_id}"

    @property
    def _pointer(self) -> str:
        return f"{self.name}:current"

    # ---- reading -------------------------------------------------------------------------
    @property
    def manifest(self) -> IndexManifest:
        manifest = self._current()
        if manifest is None:
            raise StoreError(f"no index at {self._where}: build one with `vibeshelf index`")
        return manifest

    def count(self) -> int:
        try:
            return int(self._call(self._client.ft(self.name).info)["num_docs"])
        except StoreError as exc:
            if _unknown_index(exc):
                return 0
            raise

    def knn(self, vector: np.ndarray, k: int, filters: Filter | None = None) -> list[Hit]:
        manifest = self.manifest
        query = as_stored(vector, manifest)
        storelib.check_dim("query", query.shape[0], manifest)
        if k <= 0:
            return []
        where = redis_query(filters) if filters else "*"
        ef = max(k, self.params.ef_search)
        knn = f"({where})=>[KNN {k} @vec $q EF_RUNTIME {ef} AS dist]"
        args = ["FT.SEARCH", self.name, knn, "PARAMS", 2, "q", query.tobytes(), "SORTBY", "dist"]
        args += ["RETURN", 2, "id", "dist", "LIMIT", 0, k, "DIALECT", 2]
        reply = self._call(self._client.execute_command, *args)
        hits = []
        for fields in reply[2::2]:  # [total, key, [name, value, ...], key, [...], ...]
            row = dict(zip(fields[::2], fields[1::2], strict=True))
            hits.append(Hit(row[b"id"].decode(), 1.0 - float(row[b"dist"])))
        return hits

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> list[float | None]:
        manifest = self.manifest
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        storelib.check_dim("query", query.shape[0], manifest)
        stored = VECTOR_TYPES[storelib.build_dtype(manifest)][1]
        prefix = self._doc_prefix(manifest.build_id)
        pipe = self._client.pipeline(transaction=False)
        for rid in ids:
            pipe.hget(prefix + rid, "vec")
        blobs = self._call(pipe.execute)
        return [
            None if blob is None else cosine(np.frombuffer(blob, stored), query) for blob in blobs
        ]

    def health(self) -> dict[str, Any]:
        status = storelib.down("redis", self._where)
        try:
            self._call(self._client.ping)
            current = self._current()
            status.update(count=self.count(), build_id=current.build_id if current else None)
            status["ok"] = current is not None and status["count"] > 0
        except StoreError as exc:
            status["error"] = str(exc)
        return status

    def _current(self) -> IndexManifest | None:
        """The served manifest, re-read only when the pointer names another build."""
        # A rebuild may switch builds between reading the pointer and reading the manifest.
        for _ in range(3):
            build_id = self._call(self._client.get, self._pointer)
            if build_id is None:
                return None
            cached = self._cached
            if cached is not None and cached.build_id == build_id.decode():
                return cached
            raw = self._call(self._client.get, self._manifest_key(build_id.decode()))
            if raw is not None:
                self._cached = IndexManifest.from_dict(json.loads(raw))
                return self._cached
        raise StoreError(f"index build {build_id.decode()} at {self._where} has no manifest")

    # ---- writing -------------------------------------------------------------------------
    def rebuild(self, records: Records, manifest: IndexManifest) -> None:
        with self._write_lock:
            started = time.perf_counter()
            build_id = storelib.new_build_id()
            dim = records.vectors.shape[1]
            index = self._index(build_id)
            self._create_index(index, self._doc_prefix(build_id), dim, len(records))
            try:
                self._load(build_id, records, self.vector_dtype)
                self._wait_indexed(index)
                manifest = storelib.stamp(
                    replace(manifest, dim=dim, count=len(records), backend="redis"),
                    build_id,
                    started,
                    self.params.graph() | {"vector_dtype": self.vector_dtype},
                )
                old = self._call(self._client.get, self._pointer)
                self._call(self._client.set, self._manifest_key(build_id), _dump(manifest))
                self._switch(index, build_id)
            except BaseException:
                self._drop_build(build_id)
                raise
            self._cached = manifest
            if old is not None:
                self._drop_build(old.decode())
            storelib.log_build(manifest)

    def upsert(self, records: Records) -> None:
        with self._write_lock:
            manifest = self.manifest
            storelib.check_dim("records", records.vectors.shape[1], manifest)
            self._load(manifest.build_id, records, storelib.build_dtype(manifest))
            self._save_count(manifest)

    def delete(self, ids: Sequence[str]) -> int:
        with self._write_lock:
            manifest = self.manifest
            prefix = self._doc_prefix(manifest.build_id)
            unique = list(dict.fromkeys(ids))
            if not unique:
                return 0
            removed = int(self._call(self._client.delete, *(prefix + i for i in unique)))
            self._save_count(manifest)
            return removed

    def drop(self) -> None:
        with self._write_lock:
            keys = self._call(
                list, self._client.scan_iter(match=self._manifest_key("*"), count=1000)
            )
            builds = [key.decode().rsplit(":", 1)[1] for key in keys]
            for name in self._call(self._client.execute_command, "FT._LIST"):
                name = name.decode() if isinstance(name, bytes) else name
                if name.startswith(self._index("")):
                    builds.append(name[len(self._index("")) :])
            for build_id in dict.fromkeys(builds):
                self._drop_build(build_id)
            self._call(self._client.delete, self._pointer)
            self._cached = None

    def _create_index(self, index: str, prefix: str, dim: int, capacity: int) -> None:
        schema: list[Any] = ["id", "TAG", "CASESENSITIVE", "NOINDEX"]
        for name in NUMERIC_FIELDS:
            schema += [name, "NUMERIC", "SORTABLE"]
        for name in TAG_FIELDS:
            schema += [name, "TAG", "SEPARATOR", ","]
        hnsw = {
            "TYPE": VECTOR_TYPES[self.vector_dtype][0],
            "DIM": dim,
            "DISTANCE_METRIC": "COSINE",
            "M": self.params.m,
            "EF_CONSTRUCTION": self.params.ef_construction,
            "EF_RUNTIME": self.params.ef_search,
            "INITIAL_CAP": max(1, capacity),
        }
        vec = ["vec", "VECTOR", "HNSW", 2 * len(hnsw)] + [x for kv in hnsw.items() for x in kv]
        self._call(
            self._client.execute_command,
            "FT.CREATE",
            index,
            "ON",
            "HASH",
            "PREFIX",
            1,
            prefix,
            "SCHEMA",
            *schema,
            *vec,
        )

    def _load(self, build_id: str, records: Records, dtype: VectorDtype) -> None:
        """HSET every record through pipelines of batch_size, the last partial batch included."""
        prefix = self._doc_prefix(build_id)
        vectors = records.vectors.astype(VECTOR_TYPES[dtype][1], copy=False)
        pipe = self._client.pipeline(transaction=False)
        for i, (rid, fields) in enumerate(zip(records.ids, records.fields, strict=True)):
            pipe.hset(prefix + rid, mapping=document(rid, vectors[i], fields))
            if len(pipe) >= self.batch_size:
                self._call(pipe.execute)
        if len(pipe):
            self._call(pipe.execute)

    def _wait_indexed(self, index: str, timeout_s: float = 600.0) -> None:
        deadline = time.monotonic() + timeout_s
        while int(self._call(self._client.ft(index).info).get("indexing", 0)):
            if time.monotonic() > deadline:
                raise StoreError(
                    f"index {index} at {self._where} still indexing after {timeout_s}s"
                )
            time.sleep(0.05)

    def _switch(self, index: str, build_id: str) -> None:
        """Point the alias (created if missing) and NAME:current at the new build in one MULTI/EXEC."""
        pipe = self._client.pipeline(transaction=True)
        pipe.execute_command("FT.ALIASUPDATE", self.name, index)
        pipe.set(self._pointer, build_id)
        self._call(pipe.execute)

    def _drop_build(self, build_id: str) -> None:
        """Remove a build's index, documents and manifest (whatever of them exists)."""
        try:
            self._call(self._client.execute_command, "FT.DROPINDEX", self._index(build_id), "DD")
        except StoreError as exc:
            if not _unknown_index(exc):
                raise
        self._call(self._client.delete, self._manifest_key(build_id))

    def _save_count(self, manifest: IndexManifest) -> None:
        updated = replace(manifest, count=self.count())
        self._call(self._client.set, self._manifest_key(manifest.build_id), _dump(updated))
        self._cached = updated

    @property
    def _where(self) -> str:
        return redacted(self.url)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a client call, turning connection and server errors into StoreError."""
        try:
            return fn(*args, **kwargs)
        except redis.RedisError as exc:
            raise StoreError(f"vector store {self._where}: {exc}") from exc


def _dump(manifest: IndexManifest) -> str:
    return json.dumps(manifest.to_dict())


def _unknown_index(exc: StoreError) -> bool:
    text = str(exc).lower()
    return "unknown index name" in text or "no such index" in text
