"""The feedback store in one SQLite file (the default)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vibeshelf.experiment.feedback.schema import DDL
from vibeshelf.experiment.feedback.store import FeedbackStore
from vibeshelf.storage.errors import StorageError


class SqliteFeedbackStore(FeedbackStore):
    """One SQLite file, WAL with synchronous=FULL: a committed event survives a crash."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            for ddl in DDL:
                self._conn.execute(ddl)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open feedback database {path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._conn.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            cursor.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and not self._is_duplicate(exc):
                raise StorageError(f"feedback database {self.path}: {exc}") from exc
            raise

    def _is_duplicate(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
