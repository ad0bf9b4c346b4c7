"""The feedback store in PostgreSQL (psycopg 3), reconnecting after a dropped connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vibeshelf.experiment.feedback.schema import DDL
from vibeshelf.experiment.feedback.store import FeedbackStore
from vibeshelf.storage.errors import StorageError
from vibeshelf.storage.reconnecting import ReconnectingConnection
from vibeshelf.storage.urls import redacted


class PostgresFeedbackStore(FeedbackStore):
    """Tables prefixed `vibeshelf_` in the database the URL names (psycopg 3)."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._psycopg = psycopg
        try:
            self._db = ReconnectingConnection(url, setup=_create_tables)
        except psycopg.Error as exc:
            raise StorageError(f"cannot open feedback database {redacted(url)}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        try:
            conn = self._db.get()
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor
        except self._psycopg.Error as exc:
            if self._is_duplicate(exc):
                raise
            raise StorageError(f"feedback database: {exc}") from exc

    def _is_duplicate(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.errors.UniqueViolation)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _create_tables(conn: Any) -> None:
    for ddl in DDL:
        conn.execute(ddl)
