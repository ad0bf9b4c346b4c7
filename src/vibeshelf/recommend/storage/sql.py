"""The SQL both interactions backends run; a backend supplies connection and bulk write."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
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


class SqlInteractionStore(InteractionStore):
    """Rows in `<prefix>interactions`, sources in `<prefix>sources`, one locked connection."""

    prefix = ""
    placeholder = "?"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """The connection inside one transaction (rolled back on error), errors as StorageError."""

    @abstractmethod
    def _write(self, conn: Any, source: str, rows: pa.Table, origin: str) -> None:
        """Bulk-insert conformed rows of `source` with their origin (ingest or api)."""

    @abstractmethod
    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Every row a query returns, errors as StorageError."""

    @abstractmethod
    def _stamp(self) -> object:
        """The current time as the backend stores a source's updated_at."""

    def _sql(self, text: str) -> str:
        return text.replace("{p}", self.prefix).replace("?", self.placeholder)

    def replace_source(self, info: SourceInfo, rows: pa.Table) -> SourceInfo:
        rows = conform(rows)
        with self._lock, self._transaction() as conn:
            conn.execute(
                self._sql("DELETE FROM {p}interactions WHERE source = ? AND origin = ?"),
                (info.name, INGEST),
            )
            self._write(conn, info.name, rows, INGEST)
            conn.execute(
                self._sql(
                    "INSERT INTO {p}sources VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                    "SET item_space = excluded.item_space, updated_at = excluded.updated_at"
                ),
                (info.name, info.item_space, self._stamp()),
            )
        return self.source(info.name)

    def append(self, source: str, rows: pa.Table) -> int:
        rows = conform(rows)
        with self._lock, self._transaction() as conn:
            known = self._sql("SELECT 1 FROM {p}sources WHERE name = ?")
            if conn.execute(known, (source,)).fetchone() is None:
                raise StorageError(f"no interactions for source {source!r}")
            self._write(conn, source, rows, API)
        return rows.num_rows

    def read(self, source: str) -> pa.Table:
        sql = f"SELECT {', '.join(COLUMNS)} FROM {{p}}interactions WHERE source = ?"
        with self._lock:
            rows = self._fetch(self._sql(sql), (source,))
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [[] for _ in COLUMNS]
        arrays = dict(zip(COLUMNS, columns, strict=True))
        return pa.table(
            {n: self._array(n, arrays[n]) for n in COLUMNS},
            schema=SCHEMA,
        )

    def _array(self, column: str, values: Sequence[Any]) -> pa.Array:
        """One column as read back, in its SCHEMA type."""
        return pa.array(values, SCHEMA.field(column).type)

    def history(self, source: str, user_id: str) -> list[str]:
        sql = "SELECT DISTINCT item_id FROM {p}interactions WHERE source = ? AND user_id = ?"
        with self._lock:
            rows = self._fetch(self._sql(sql), (source, user_id))
        return [r[0] for r in rows]

    def sources(self) -> list[SourceInfo]:
        sql = (
            "SELECT s.name, s.item_space, (SELECT count(*) FROM {p}interactions i "
            "WHERE i.source = s.name), s.updated_at FROM {p}sources s ORDER BY s.name"
        )
        with self._lock:
            rows = self._fetch(self._sql(sql), ())
        return [
            SourceInfo(name, space, int(count), self._stamp_text(updated))
            for name, space, count, updated in rows
        ]

    def _stamp_text(self, stamp: Any) -> str:
        """A stored updated_at as ISO 8601 text."""
        return str(stamp)
