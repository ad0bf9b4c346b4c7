"""The analytics store contract, on SQLite and on a real PostgreSQL server on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.contracts.analytics_store import AnalyticsStoreContract, served
from tests.contracts.opened_store import SqliteFileStore
from tests.contracts.reconnecting_store import ReconnectingStoreContract
from vibeshelf.analytics.backends import (
    PostgresAnalyticsStore,
    SqliteAnalyticsStore,
    open_analytics_store,
)
from vibeshelf.analytics.store import AnalyticsStore


class TestSqliteAnalyticsStore(SqliteFileStore, AnalyticsStoreContract):
    def open_store(self, directory: Path) -> AnalyticsStore:
        store = open_analytics_store("sqlite://", directory)
        assert isinstance(store, SqliteAnalyticsStore)
        assert store.path == directory / "analytics.sqlite3"
        return store

    def rows(self, store: AnalyticsStore, sql: str) -> list[tuple[Any, ...]]:
        assert isinstance(store, SqliteAnalyticsStore)
        with sqlite3.connect(store.path) as db:  # another connection: what was committed
            return db.execute(sql).fetchall()


class TestPostgresAnalyticsStore(AnalyticsStoreContract, ReconnectingStoreContract):
    def open_store(self, url: str) -> AnalyticsStore:
        store = open_analytics_store(url, Path("unused"))
        assert isinstance(store, PostgresAnalyticsStore)
        return store

    def rows(self, store: AnalyticsStore, sql: str) -> list[tuple[Any, ...]]:
        return store._db.fetch(sql, ())  # type: ignore[attr-defined,no-any-return]

    def write(self, store: AnalyticsStore, key: str) -> None:
        store.write([served(key, key)])

    def written(self, store: AnalyticsStore) -> list[str]:
        return sorted(store.counts("search"))


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_analytics_store("mysql://x", Path("."))
