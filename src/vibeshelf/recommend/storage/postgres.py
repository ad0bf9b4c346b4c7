"""Interactions in PostgreSQL (psycopg 3): bulk COPY for ingest, one locked connection for serving,
reopened after the server drops it."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from vibeshelf.recommend.storage.base import (
    API,
    COLUMNS,
    INGEST,
    SCHEMA,
    InteractionStore,
    SourceInfo,
    conform,
)
from vibeshelf.storage.errors import StorageError
from vibeshelf.storage.reconnecting import ReconnectingConnection
from vibeshelf.storage.urls import redacted

_DDL = """
CREATE TABLE IF NOT EXISTS vibeshelf_sources (
    name TEXT PRIMARY KEY, item_space TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS vibeshelf_interactions (
    source TEXT NOT NULL, user_id TEXT NOT NULL, item_id TEXT NOT NULL, rating DOUBLE PRECISION,
    strength DOUBLE PRECISION, event TEXT NOT NULL, ts TIMESTAMP, origin TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vibeshelf_interactions_by_user ON vibeshelf_interactions (source, user_id);
"""
_COPY = (
    "COPY vibeshelf_interactions (source, user_id, item_id, rating, strength, event, ts, origin) "
    "FROM STDIN"
)
_BATCH = 50_000


class PostgresStore(InteractionStore):
    """Tables prefixed `vibeshelf_` in the database the URL names."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self._lock = threading.Lock()
        try:
            self._db = ReconnectingConnection(url, setup=lambda conn: conn.execute(_DDL))
        except psycopg.Error as exc:
            raise StorageError(f"cannot open interactions database {redacted(url)}: {exc}") from exc

    def replace_source(self, info: SourceInfo, rows: pa.Table) -> SourceInfo:
        rows = conform(rows)
        with self._lock, self._transaction() as conn:
            conn.execute(
                "DELETE FROM vibeshelf_interactions WHERE source = %s AND origin = %s",
                (info.name, INGEST),
            )
            self._copy(conn, info.name, rows, INGEST)
            conn.execute(
                "INSERT INTO vibeshelf_sources VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
                "SET item_space = excluded.item_space, updated_at = excluded.updated_at",
                (info.name, info.item_space, datetime.now(UTC)),
            )
        return self.source(info.name)

    def append(self, source: str, rows: pa.Table) -> int:
        rows = conform(rows)
        with self._lock, self._transaction() as conn:
            if (
                conn.execute(
                    "SELECT 1 FROM vibeshelf_sources WHERE name = %s", (source,)
                ).fetchone()
                is None
            ):
                raise StorageError(f"no interactions for source {source!r}")
            self._copy(conn, source, rows, API)
        return rows.num_rows

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """The connection inside one transaction (rolled back on error); database errors become StorageError."""
        try:
            conn = self._db.get()
            with conn.transaction():
                yield conn
        except self._psycopg.Error as exc:
            raise StorageError(f"interactions database {redacted(self.url)}: {exc}") from exc

    def _copy(self, conn: Any, source: str, rows: pa.Table, origin: str) -> None:
        with conn.cursor() as cur, cur.copy(_COPY) as copy:
            for batch in rows.to_batches(_BATCH):
                columns = [batch.column(name).to_pylist() for name in COLUMNS]
                for row in zip(*columns, strict=True):
                    copy.write_row((source, *row, origin))

    def read(self, source: str) -> pa.Table:
        with self._lock:
            rows = self._fetch(
                f"SELECT {', '.join(COLUMNS)} FROM vibeshelf_interactions WHERE source = %s",
                (source,),
            )
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [[] for _ in COLUMNS]
        return pa.table(
            {n: pa.array(c, SCHEMA.field(n).type) for n, c in zip(COLUMNS, columns, strict=True)},
            schema=SCHEMA,
        )

    def history(self, source: str, user_id: str) -> list[str]:
        with self._lock:
            rows = self._fetch(
                "SELECT DISTINCT item_id FROM vibeshelf_interactions WHERE source = %s AND user_id = %s",
                (source, user_id),
            )
        return [r[0] for r in rows]

    def sources(self) -> list[SourceInfo]:
        with self._lock:
            rows = self._fetch(
                "SELECT s.name, s.item_space, (SELECT count(*) FROM vibeshelf_interactions i "
                "WHERE i.source = s.name), s.updated_at FROM vibeshelf_sources s ORDER BY s.name",
                (),
            )
        return [
            SourceInfo(name, space, int(count), updated.isoformat(timespec="seconds"))
            for name, space, count, updated in rows
        ]

    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.get().execute(sql, params).fetchall()  # type: ignore[no-any-return]
        except self._psycopg.Error as exc:
            raise StorageError(f"interactions database {redacted(self.url)}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()
