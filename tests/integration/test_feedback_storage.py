"""The feedback store contract, on SQLite and on a real PostgreSQL server on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.contracts.feedback_store import FeedbackStoreContract
from tests.contracts.opened_store import SqliteFileStore
from tests.contracts.reconnecting_store import ReconnectingStoreContract
from vibeshelf.experiment.feedback.events import Feedback
from vibeshelf.experiment.feedback.factory import open_feedback
from vibeshelf.experiment.feedback.postgres import PostgresFeedbackStore
from vibeshelf.experiment.feedback.sqlite import SqliteFeedbackStore
from vibeshelf.experiment.feedback.store import FeedbackStore


class TestSqliteFeedbackStore(SqliteFileStore, FeedbackStoreContract):
    def open_store(self, directory: Path) -> FeedbackStore:
        store = open_feedback("sqlite://", directory)
        assert isinstance(store, SqliteFeedbackStore) and store.path == directory / "feedback.sqlite3"
        return store

    def test_an_accepted_event_is_committed(self, store: FeedbackStore, tmp_path: Path) -> None:
        store.record_served("r1", "search", "v1", 1)
        store.add(Feedback(request_id="r1", position=1, event="click"))
        with sqlite3.connect(tmp_path / "feedback.sqlite3") as other:  # another connection sees it
            assert other.execute("SELECT count(*) FROM vibeshelf_feedback").fetchone() == (1,)


class TestPostgresFeedbackStore(FeedbackStoreContract, ReconnectingStoreContract):
    def open_store(self, url: str) -> FeedbackStore:
        store = open_feedback(url, Path("unused"))
        assert isinstance(store, PostgresFeedbackStore)
        return store

    def write(self, store: FeedbackStore, key: str) -> None:
        store.record_served(key, "search", key, 10)

    def written(self, store: FeedbackStore) -> list[str]:
        rows = store._db.fetch("SELECT request_id FROM vibeshelf_served ORDER BY 1", ())  # type: ignore[attr-defined]
        return [row[0] for row in rows]


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_feedback("mysql://x", Path("."))
