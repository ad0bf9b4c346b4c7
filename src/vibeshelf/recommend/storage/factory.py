"""Pick the interactions store from the events URL's scheme."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.config.urls import sqlite_file
from vibeshelf.recommend.storage.base import InteractionStore

DEFAULT_SQLITE_FILE = "events.sqlite3"


def open_interactions(url: str, data_dir: Path) -> InteractionStore:
    """`sqlite://[path]` (default `<data_dir>/events.sqlite3`) or `postgresql://user@host:port/db`."""
    path = sqlite_file(url, data_dir / DEFAULT_SQLITE_FILE, "events")
    if path is not None:
        from vibeshelf.recommend.storage.sqlite import SqliteStore

        return SqliteStore(path)
    from vibeshelf.recommend.storage.postgres import PostgresStore

    return PostgresStore(url)
