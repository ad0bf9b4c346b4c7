"""One SQLite database file in WAL mode with its tables made, and its write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vibeshelf.storage.errors import StorageError


def creating(ddl: Iterable[str]) -> Callable[[Any], None]:
    """A connection `setup` that runs each CREATE ... IF NOT EXISTS statement of `ddl`."""

    def create(conn: Any) -> None:
        for statement in ddl:
            conn.execute(statement)

    return create


class SqliteFile:
    """A connection shared by threads (callers serialise use with their own lock); database errors
    reach callers as StorageError naming `what`."""

    def __init__(
        self, path: Path, ddl: Iterable[str], what: str, synchronous: str = "NORMAL",
        busy_seconds: float = 5.0,
    ) -> None:
        self.path = path
        self.what = what
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                path, timeout=busy_seconds, check_same_thread=False, isolation_level=None
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            creating(ddl)(self._conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open {what} {path}: {exc}") from exc

    @contextmanager
    def transaction(self, passes: tuple[type[BaseException], ...] = ()) -> Iterator[sqlite3.Cursor]:
        """A cursor inside BEGIN IMMEDIATE ... COMMIT, rolled back on any error; a database error
        becomes StorageError, except those of the types in `passes`."""
        cursor = self._conn.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            cursor.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, passes):
                raise StorageError(f"{self.what} {self.path}: {exc}") from exc
            raise

    def close(self) -> None:
        self._conn.close()
