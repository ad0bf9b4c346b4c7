"""The default interactions store: one SQLite file, safe to share between threads."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
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


class SqliteStore(InteractionStore):
    """Rows in `interactions`, sources in `sources`; timestamps as UTC microseconds."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_DDL)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open interactions database {self.path}: {exc}") from exc

    def replace_source(self, info: SourceInfo, rows: pa.Table) -> SourceInfo:
        rows = conform(rows)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._transaction():
            self._conn.execute(
                "DELETE FROM interactions WHERE source = ? AND origin = ?", (info.name, INGEST)
            )
            self._insert(info.name, rows, INGEST)
            self._conn.execute(
                "INSERT INTO sources VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET item_space = excluded.item_space, updated_at = excluded.updated_at",
                (info.name, info.item_space, now),
            )
        return self.source(info.name)

    def append(self, source: str, rows: pa.Table) -> int:
        rows = conform(rows)
        with self._lock, self._transaction():
            if (
                self._conn.execute("SELECT 1 FROM sources WHERE name = ?", (source,)).fetchone()
                is None
            ):
                raise StorageError(f"no interactions for source {source!r}")
            self._insert(source, rows, API)
        return rows.num_rows

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT, or ROLLBACK on any error; database errors become StorageError."""
        self._conn.execute("BEGIN")
        try:
            yield
        except BaseException as exc:
            self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"interactions database {self.path}: {exc}") from exc
            raise
        self._conn.execute("COMMIT")

    def _insert(self, source: str, rows: pa.Table, origin: str) -> None:
        self._conn.executemany(
            "INSERT INTO interactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _tuples(source, rows, origin),
        )

    def read(self, source: str) -> pa.Table:
        with self._lock:
            cursor = self._conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM interactions WHERE source = ?", (source,)
            )
            columns: list[Sequence[Any]] = list(zip(*cursor.fetchall(), strict=True)) or [
                [] for _ in COLUMNS
            ]
        arrays = dict(zip(COLUMNS, columns, strict=True))
        arrays["ts"] = pa.array(arrays["ts"], pa.int64()).cast(pa.timestamp("us"))
        return pa.table(
            {name: pa.array(arrays[name], SCHEMA.field(name).type) for name in COLUMNS},
            schema=SCHEMA,
        )

    def history(self, source: str, user_id: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT item_id FROM interactions WHERE source = ? AND user_id = ?",
                (source, user_id),
            ).fetchall()
        return [r[0] for r in rows]

    def sources(self) -> list[SourceInfo]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT s.name, s.item_space, (SELECT count(*) FROM interactions i "
                "WHERE i.source = s.name), s.updated_at FROM sources s ORDER BY s.name"
            ).fetchall()
        return [SourceInfo(*row) for row in rows]

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
