"""The anonymised Goodreads-style interactions (0-5, 0 = implicit): their own item space."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.recommend.interactions.files import ingest_file
from vibeshelf.recommend.interactions.report import InteractionsReport
from vibeshelf.recommend.storage.base import InteractionStore

GOODREADS_FILE = Path("goodreads-interactions") / "train_Interactions.csv.gz"
GOODREADS_RATING_MAX = 5.0
GOODREADS = "goodreads"


def ingest_goodreads(source_dir: Path, store: InteractionStore) -> InteractionsReport:
    """The anonymised Goodreads-style ratings (0-5, 0 = implicit) as their own item space."""
    mapping = {"user": "userID", "item": "bookID", "rating": "rating"}
    path = Path(source_dir) / GOODREADS_FILE
    return ingest_file(path, mapping, store, GOODREADS, rating_max=GOODREADS_RATING_MAX)
