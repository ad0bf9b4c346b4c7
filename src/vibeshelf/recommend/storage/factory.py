"""Pick the interactions store from the events URL's scheme."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.recommend.settings import check_database_url
from vibeshelf.recommend.storage.base import InteractionStore

DEFAULT_SQLITE_FILE = "events.sqlite3"


def sqlite_file(url: str, default: Path, what: str) -> Path | None:
    """The SQLite file a `sqlite://[path]` URL names (`default` without a path); None for PostgreSQL."""
    scheme, _, rest = check_database_url(url, what).partition("://")
    if scheme == "sqlite":
        return Path(rest) if rest else default
    return None


def open_interactions(url: str, data_dir: Path) -> InteractionStore:
    """`sqlite://[path]` (default `<data_dir>/events.sqlite3`) or `postgresql://user@host:port/db`."""
    path = sqlite_file(url, data_dir / DEFAULT_SQLITE_FILE, "events")
    if path is not None:
        from vibeshelf.recommend.storage.sqlite import SqliteStore

        return SqliteStore(path)
    from vibeshelf.recommend.storage.postgres import PostgresStore

    return PostgresStore(url)
