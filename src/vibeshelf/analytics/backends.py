"""The analytics store in one SQLite file (the default) or in PostgreSQL, chosen by URL scheme."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vibeshelf.analytics.schema import DDL
from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.config.urls import sqlite_file
from vibeshelf.storage.reconnecting import ReconnectingConnection
from vibeshelf.storage.sqlite_file import SqliteFile, creating

DEFAULT_SQLITE_FILE = "analytics.sqlite3"
BUSY_SECONDS = 30.0  # a SQLite writer waits this long for another process's write to end
WHAT = "analytics store"


def open_analytics_store(
    url: str, analytics_dir: Path, raw_days: int | None = None
) -> AnalyticsStore:
    """`sqlite://[path]` (default <data_dir>/analytics/analytics.sqlite3; WAL, shared by the
    processes of one machine) or `postgresql://...` (tables prefixed `vibeshelf_analytics_`);
    a writer given `raw_days` keeps the raw rows that long."""
    path = sqlite_file(url, analytics_dir / DEFAULT_SQLITE_FILE, WHAT)
    if path is not None:
        db = SqliteFile(path, DDL, WHAT, busy_seconds=BUSY_SECONDS)
        return AnalyticsStore(db.transaction, db.close, "?", raw_days)
    server = ReconnectingConnection(url, setup=creating(DDL), what=WHAT)

    @contextmanager
    def transaction() -> Iterator[Any]:
        with server.transaction() as conn, conn.cursor() as cursor:
            yield cursor

    return AnalyticsStore(transaction, server.close, "%s", raw_days)
