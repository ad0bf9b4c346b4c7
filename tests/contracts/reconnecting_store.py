"""The behaviour every store on PostgreSQL must show when its connection is dropped under it.

A subclass provides `open_store(url)` (the store on a database URL), `write` (one small write
naming `key`) and `written` (the keys written, sorted); `prepare` makes what a write needs.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.opened_store import OpenedStore
from tests.postgres_server import drop_connections, fresh_database
from vibeshelf.storage.errors import StorageError


class ReconnectingStoreContract(OpenedStore):
    """A dropped connection fails the call it interrupts; the next call reconnects."""

    @pytest.fixture
    def database_url(self, postgres_url: str) -> str:
        """A database of the test's own on the shared server."""
        return fresh_database(postgres_url)

    @pytest.fixture
    def where(self, database_url: str) -> str:
        return database_url

    def prepare(self, store: Any) -> None:
        """Whatever must exist before `write` (nothing, unless a subclass says so)."""

    def write(self, store: Any, key: str) -> None:
        raise NotImplementedError

    def written(self, store: Any) -> list[str]:
        raise NotImplementedError

    def test_a_dropped_connection_is_reopened(
        self, store: Any, postgres_url: str, database_url: str
    ) -> None:
        self.prepare(store)
        self.write(store, "k1")
        assert drop_connections(postgres_url, database_url) == 1
        with pytest.raises(StorageError):  # the call the drop interrupts fails...
            self.write(store, "k2")
        self.write(store, "k3")  # ...the next one reconnects
        assert self.written(store) == ["k1", "k3"]
