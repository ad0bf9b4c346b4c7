"""One PostgreSQL connection that reopens on its next use after the server dropped it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from vibeshelf.storage.errors import StorageError
from vibeshelf.storage.urls import redacted


class ReconnectingConnection:
    """An autocommit psycopg connection, opened again (and `setup` run again) once it is broken.

    A query on a connection that breaks still fails, and the caller reports that; the next query
    gets a fresh connection, so a database restart costs the requests made during it, not every
    request until the service restarts. Callers serialise use with their own lock. Database errors
    reach callers as StorageError naming `what` (e.g. "feedback database") and the redacted URL.
    """

    def __init__(
        self, url: str, setup: Callable[[Any], None] = lambda conn: None, what: str = "database"
    ) -> None:
        import psycopg

        self._psycopg = psycopg
        self._url = url
        self._setup = setup
        self._conn: Any = None
        self.what = what
        try:
            self.get()  # fail early when the database is unreachable
        except psycopg.Error as exc:
            raise StorageError(f"cannot open {what} {redacted(url)}: {exc}") from exc

    def get(self) -> Any:
        """The open connection; psycopg.Error when it cannot be opened."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            self._setup(self._conn)
        return self._conn

    @contextmanager
    def transaction(self, passes: tuple[type[BaseException], ...] = ()) -> Iterator[Any]:
        """The connection inside one transaction (rolled back on error).

        A database error becomes StorageError, except those of the types in `passes`.
        """
        try:
            conn = self.get()
            with conn.transaction():
                yield conn
        except self._psycopg.Error as exc:
            if isinstance(exc, passes):
                raise
            raise self._failure(exc) from exc

    def fetch(self, query: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Every row `query` returns, outside any transaction."""
        try:
            return self.get().execute(query, params).fetchall()  # type: ignore[no-any-return]
        except self._psycopg.Error as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: Exception) -> StorageError:
        return StorageError(f"{self.what} {redacted(self._url)}: {exc}")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
