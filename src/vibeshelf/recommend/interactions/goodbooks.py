"""The goodbooks-10k ratings (1-5) of the catalog's own books, keyed by the catalog's book_id."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.recommend.interactions.files import ingest_file
from vibeshelf.recommend.interactions.report import InteractionsReport
from vibeshelf.recommend.storage.base import InteractionStore

GOODBOOKS_RATINGS = Path("goodbooks-10k") / "ratings.csv.gz"
GOODBOOKS_RATING_MAX = 5.0
GOODBOOKS = "goodbooks"


def ingest_goodbooks(
    source_dir: Path, store: InteractionStore, books_path: Path | None
) -> InteractionsReport:
    """goodbooks-10k ratings.csv.gz (book_id, user_id, rating) linked to the catalog by book_id.

    The file's book_id is the catalog's goodbooks book_id, so rows are kept only for catalog
    books (counted as not_in_catalog otherwise); repeated (book, user) pairs keep the higher rating.
    """
    mapping = {"user": "user_id", "item": "book_id", "rating": "rating"}
    path = Path(source_dir) / GOODBOOKS_RATINGS
    return ingest_file(
        path,
        mapping,
        store,
        GOODBOOKS,
        items="catalog",
        rating_max=GOODBOOKS_RATING_MAX,
        books_path=books_path,
    )
