"""The feedback store in PostgreSQL (psycopg 3), reconnecting after a dropped connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vibeshelf.experiment.feedback.schema import DDL
from vibeshelf.experiment.feedback.store import FeedbackStore
from vibeshelf.storage.reconnecting import ReconnectingConnection
from vibeshelf.storage.sqlite_file import creating


class PostgresFeedbackStore(FeedbackStore):
    """Tables prefixed `vibeshelf_` in the database the URL names (psycopg 3)."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._psycopg = psycopg
        self._db = ReconnectingConnection(url, setup=creating(DDL), what="feedback database")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        duplicate = (self._psycopg.errors.UniqueViolation,)
        with self._db.transaction(passes=duplicate) as conn, conn.cursor() as cursor:
            yield cursor

    def _is_duplicate(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.errors.UniqueViolation)

    def close(self) -> None:
        with self._lock:
            self._db.close()
