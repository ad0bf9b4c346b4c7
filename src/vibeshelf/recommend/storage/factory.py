"""Pick the interactions store from the events URL's scheme."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.recommend.storage.base import InteractionStore

DEFAULT_SQLITE_FILE = "events.sqlite3"


def open_interactions(url: str, data_dir: Path) -> InteractionStore:
    """`sqlite://[path]` (default `<data_dir>/events.sqlite3`) or `postgresql://user@host:port/db`."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        from vibeshelf.recommend.storage.sqlite import SqliteStore

        return SqliteStore(Path(rest) if rest else data_dir / DEFAULT_SQLITE_FILE)
    if scheme in ("postgresql", "postgres"):
        from vibeshelf.recommend.storage.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(
        f"unsupported events URL {url!r}: expected sqlite://[path] or postgresql://..."
    )
