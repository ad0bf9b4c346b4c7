"""One PostgreSQL connection that reopens on its next use after the server dropped it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ReconnectingConnection:
    """An autocommit psycopg connection, opened again (and `setup` run again) once it is broken.

    A query on a connection that breaks still fails, and the caller reports that; the next query
    gets a fresh connection, so a database restart costs the requests made during it, not every
    request until the service restarts. Callers serialise use with their own lock.
    """

    def __init__(self, url: str, setup: Callable[[Any], None] = lambda conn: None) -> None:
        import psycopg

        self._psycopg = psycopg
        self._url = url
        self._setup = setup
        self._conn: Any = None
        self.get()  # fail early when the database is unreachable

    def get(self) -> Any:
        """The open connection; psycopg.Error when it cannot be opened."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            self._setup(self._conn)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
