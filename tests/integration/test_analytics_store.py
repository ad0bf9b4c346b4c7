"""The analytics store contract, on SQLite and on a real PostgreSQL server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contracts.analytics_store import AnalyticsStoreContract, served
from tests.contracts.opened_store import SqliteFileStore
from tests.contracts.reconnecting_store import ReconnectingStoreContract
from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.analytics.store import AnalyticsStore


def committed_rows(store: AnalyticsStore, sql: str) -> list[tuple[Any, ...]]:
    with store._transaction() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


class TestSqliteAnalyticsStore(SqliteFileStore, AnalyticsStoreContract):
    def open_store(self, directory: Path) -> AnalyticsStore:
        store = open_analytics_store("sqlite://", directory)
        assert (directory / "analytics.sqlite3").is_file()
        return store

    def rows(self, store: AnalyticsStore, sql: str) -> list[tuple[Any, ...]]:
        return committed_rows(store, sql)


class TestPostgresAnalyticsStore(AnalyticsStoreContract, ReconnectingStoreContract):
    def open_store(self, url: str) -> AnalyticsStore:
        return open_analytics_store(url, Path("unused"))

    def rows(self, store: AnalyticsStore, sql: str) -> list[tuple[Any, ...]]:
        return committed_rows(store, sql)

    def write(self, store: AnalyticsStore, key: str) -> None:
        store.write([served(key, key)])

    def written(self, store: AnalyticsStore) -> list[str]:
        return sorted(store.counts("search"))


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_analytics_store("mysql://x", Path("."))
