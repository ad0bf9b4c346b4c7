"""Open the feedback store a URL names: SQLite (default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.config.urls import sqlite_file
from vibeshelf.experiment.feedback.events import Retention
from vibeshelf.experiment.feedback.postgres import PostgresFeedbackStore
from vibeshelf.experiment.feedback.sqlite import SqliteFeedbackStore
from vibeshelf.experiment.feedback.store import FeedbackStore

DEFAULT_SQLITE_FILE = "feedback.sqlite3"
DEFAULT_RETENTION = Retention()


def open_feedback(
    url: str, experiments_dir: Path, retention: Retention = DEFAULT_RETENTION
) -> FeedbackStore:
    """`sqlite://[path]` (default <data_dir>/experiments/feedback.sqlite3) or `postgresql://...`."""
    path = sqlite_file(url, experiments_dir / DEFAULT_SQLITE_FILE, "feedback")
    store = SqliteFeedbackStore(path) if path is not None else PostgresFeedbackStore(url)
    store.retention = retention
    return store
