"""The analytics store in one SQLite file (the default) or in PostgreSQL, chosen by URL scheme."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vibeshelf.analytics.schema import DDL
from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.config.urls import sqlite_file
from vibeshelf.storage.errors import StorageError
from vibeshelf.storage.reconnecting import ReconnectingConnection

DEFAULT_SQLITE_FILE = "analytics.sqlite3"
BUSY_SECONDS = 30.0  # a writer waits this long for another process's write to end


class SqliteAnalyticsStore(AnalyticsStore):
    """One SQLite file in WAL mode, shared by the processes of one machine."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            for ddl in DDL:
                self._conn.execute(ddl)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open analytics store {path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._conn.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            cursor.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise StorageError(f"analytics store {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresAnalyticsStore(AnalyticsStore):
    """Tables prefixed `vibeshelf_analytics_` in the database the URL names (psycopg 3)."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._db = ReconnectingConnection(url, setup=_create_tables, what="analytics store")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._db.transaction() as conn, conn.cursor() as cursor:
            yield cursor

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _create_tables(conn: Any) -> None:
    for ddl in DDL:
        conn.execute(ddl)


def open_analytics_store(url: str, analytics_dir: Path) -> AnalyticsStore:
    """`sqlite://[path]` (default <data_dir>/analytics/analytics.sqlite3) or `postgresql://...`."""
    path = sqlite_file(url, analytics_dir / DEFAULT_SQLITE_FILE, "analytics store")
    return SqliteAnalyticsStore(path) if path is not None else PostgresAnalyticsStore(url)
