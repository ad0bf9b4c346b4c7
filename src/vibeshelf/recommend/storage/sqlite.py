"""The default interactions store: one SQLite file, safe to share between threads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from vibeshelf.recommend.storage.base import COLUMNS
from vibeshelf.recommend.storage.sql import SqlInteractionStore
from vibeshelf.storage.errors import StorageError

_DDL = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY, item_space TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS interactions (
    source TEXT NOT NULL, user_id TEXT NOT NULL, item_id TEXT NOT NULL, rating REAL, strength REAL,
    event TEXT NOT NULL, ts INTEGER, origin TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS interactions_by_user ON interactions (source, user_id);
"""
_BATCH = 50_000


class SqliteStore(SqlInteractionStore):
    """Rows in `interactions`, sources in `sources`; timestamps as UTC microseconds."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_DDL)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open interactions database {self.path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error; database errors become StorageError.

        IMMEDIATE takes the write lock first, waiting up to the connection's busy timeout for
        another process's writer: a deferred transaction that reads before it writes (append
        checks its source) cannot wait when its snapshot is stale and fails "database is locked".
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"interactions database {self.path}: {exc}") from exc
        try:
            yield self._conn
        except BaseException as exc:
            self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"interactions database {self.path}: {exc}") from exc
            raise
        self._conn.execute("COMMIT")

    def _write(self, conn: Any, source: str, rows: pa.Table, origin: str) -> None:
        conn.executemany(
            "INSERT INTO interactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _tuples(source, rows, origin),
        )

    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"interactions database {self.path}: {exc}") from exc

    def _stamp(self) -> object:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def _array(self, column: str, values: Sequence[Any]) -> pa.Array:
        if column == "ts":  # stored as UTC microseconds
            return pa.array(values, pa.int64()).cast(pa.timestamp("us"))
        return super()._array(column, values)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _tuples(source: str, rows: pa.Table, origin: str) -> Iterator[tuple[object, ...]]:
    for batch in rows.to_batches(_BATCH):
        columns = [batch.column(name) for name in COLUMNS[:-1]]
        ts = batch.column("ts").cast(pa.int64())
        yield from zip(
            [source] * batch.num_rows,
            *(c.to_pylist() for c in columns),
            ts.to_pylist(),
            [origin] * batch.num_rows,
            strict=True,
        )
