"""Interactions in PostgreSQL (psycopg 3): bulk COPY for ingest, one locked connection for serving,
reopened after the server drops it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from vibeshelf.recommend.storage.base import COLUMNS
from vibeshelf.recommend.storage.sql import SqlInteractionStore
from vibeshelf.storage.reconnecting import ReconnectingConnection

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


class PostgresStore(SqlInteractionStore):
    """Tables prefixed `vibeshelf_` in the database the URL names."""

    prefix = "vibeshelf_"
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._db = ReconnectingConnection(
            url, setup=lambda conn: conn.execute(_DDL), what="interactions database"
        )

    def _transaction(self) -> AbstractContextManager[Any]:
        return self._db.transaction()

    def _write(self, conn: Any, source: str, rows: pa.Table, origin: str) -> None:
        with conn.cursor() as cur, cur.copy(_COPY) as copy:
            for batch in rows.to_batches(_BATCH):
                columns = [batch.column(name).to_pylist() for name in COLUMNS]
                for row in zip(*columns, strict=True):
                    copy.write_row((source, *row, origin))

    def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        return self._db.fetch(sql, params)

    def _stamp(self) -> object:
        return datetime.now(UTC)

    def _stamp_text(self, stamp: Any) -> str:
        return str(stamp.isoformat(timespec="seconds"))

    def close(self) -> None:
        with self._lock:
            self._db.close()
