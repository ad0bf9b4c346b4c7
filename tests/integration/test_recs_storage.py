"""The interactions store contract, on SQLite and on a real PostgreSQL server started on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.contracts.interaction_store import InteractionStoreContract, rows
from tests.contracts.opened_store import SqliteFileStore
from tests.contracts.reconnecting_store import ReconnectingStoreContract
from vibeshelf.recommend.storage.base import InteractionStore, SourceInfo
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.recommend.storage.postgres import PostgresStore
from vibeshelf.recommend.storage.sqlite import SqliteStore
from vibeshelf.storage.errors import StorageError


class TestSqliteStore(SqliteFileStore, InteractionStoreContract):
    def open_store(self, directory: Path) -> InteractionStore:
        store = open_interactions("sqlite://", directory)
        assert isinstance(store, SqliteStore) and store.path == directory / "events.sqlite3"
        return store


class TestPostgresStore(InteractionStoreContract, ReconnectingStoreContract):
    def open_store(self, url: str) -> InteractionStore:
        store = open_interactions(url, Path("unused"))
        assert isinstance(store, PostgresStore)
        return store

    def prepare(self, store: InteractionStore) -> None:
        store.replace_source(SourceInfo("bx", "catalog"), rows(("u0", "b0", 0.5)))

    def write(self, store: InteractionStore, key: str) -> None:
        store.append("bx", rows(("u1", key, 0.5)))

    def written(self, store: InteractionStore) -> list[str]:
        return sorted(store.history("bx", "u1"))


def test_unreachable_postgres_is_a_storage_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StorageError, match="127.0.0.1") as error:
        open_interactions(f"postgresql://nobody:secret@127.0.0.1:{port}/x", Path("unused"))
    assert "secret" not in str(error.value)


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_interactions("mysql://x", Path("."))


APPENDER = """
import sys
from pathlib import Path
from tests.contracts.interaction_store import rows
from vibeshelf.recommend.storage.factory import open_interactions
store = open_interactions("sqlite://", Path(sys.argv[1]))
for i in range(150):
    store.append("bx", rows((f"{sys.argv[2]}-{i}", "b1", 0.5)))
store.close()
"""


def test_server_workers_appending_to_one_sqlite_file_lose_no_event(tmp_path: Path) -> None:
    """Each gunicorn worker holds its own connection: concurrent appends (a read, then a write, in
    one transaction) must wait for each other, not fail with "database is locked"."""
    store = open_interactions("sqlite://", tmp_path)
    store.replace_source(SourceInfo("bx", "catalog"), rows(("u0", "b0", 0.5)))
    store.close()
    workers = [subprocess.Popen([sys.executable, "-c", APPENDER, str(tmp_path), f"w{n}"],
                                stderr=subprocess.PIPE, text=True, cwd=REPO) for n in range(4)]
    errors = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, errors
    store = open_interactions("sqlite://", tmp_path)
    assert store.read("bx").num_rows == 1 + 4 * 150
    store.close()
