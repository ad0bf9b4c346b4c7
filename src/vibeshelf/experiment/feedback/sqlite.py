"""The feedback store in one SQLite file (the default)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vibeshelf.experiment.feedback.schema import DDL
from vibeshelf.experiment.feedback.store import FeedbackStore
from vibeshelf.storage.sqlite_file import SqliteFile


class SqliteFeedbackStore(FeedbackStore):
    """One SQLite file, WAL with synchronous=FULL: a committed event survives a crash."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._db = SqliteFile(path, DDL, "feedback database", synchronous="FULL")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._db.transaction(passes=(sqlite3.IntegrityError,)) as cursor:
            yield cursor

    def _is_duplicate(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        with self._lock:
            self._db.close()
