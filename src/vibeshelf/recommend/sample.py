"""The bundled ratings sample: Book-Crossing ratings of the sample's books, and their install."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from vibeshelf.catalog.sample import SAMPLE_PATH
from vibeshelf.catalog.table import sql_string, staging_file
from vibeshelf.recommend.interactions.bookcrossing import (
    BOOK_CROSSING_LINKED,
    BX_RATING_MAX,
    ingest_book_crossing,
)
from vibeshelf.recommend.interactions.files import ingest_file
from vibeshelf.recommend.interactions.report import InteractionsReport
from vibeshelf.recommend.storage.base import InteractionStore
from vibeshelf.recommend.storage.sqlite import SqliteStore
from vibeshelf.storage import duck

SAMPLE_RATINGS_PATH = SAMPLE_PATH.with_name("ratings.parquet")
# Our field -> the sample file's column; ratings keep Book-Crossing's 0-10 scale (0 = implicit).
SAMPLE_MAPPING = {"user": "user_id", "item": "book_id", "rating": "rating"}


def build_ratings_sample(
    source_dir: Path, books_path: Path = SAMPLE_PATH, out_path: Path = SAMPLE_RATINGS_PATH
) -> InteractionsReport:
    """Write the Book-Crossing ratings that link (by ISBN-10) to the books of `books_path`."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        store = SqliteStore(Path(tmp_dir) / "events.sqlite3")
        try:
            reports = ingest_book_crossing(source_dir, store, books_path)
            rows = store.read(BOOK_CROSSING_LINKED)
        finally:
            store.close()
    ratings = rows.select(["user_id", "item_id", "rating"]).rename_columns(
        ["user_id", "book_id", "rating"]
    )
    with duck.connect() as con, staging_file(out_path) as staged:
        con.register("ratings", ratings)
        con.execute(
            "COPY (SELECT user_id, book_id, CAST(rating AS TINYINT) AS rating FROM ratings "
            f"ORDER BY user_id, book_id) TO {sql_string(staged)} "
            "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 19)"
        )
        staged.replace(out_path)
    return reports[-1]


def install_ratings_sample(
    store: InteractionStore, books_path: Path, sample_path: Path = SAMPLE_RATINGS_PATH
) -> InteractionsReport:
    """Load the bundled ratings as the catalog-linked Book-Crossing source (the training default)."""
    return ingest_file(
        sample_path,
        SAMPLE_MAPPING,
        store,
        BOOK_CROSSING_LINKED,
        items="catalog",
        rating_max=BX_RATING_MAX,
        books_path=books_path,
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m vibeshelf.recommend.sample SOURCE_DIR [--books B] [--out O]`."""
    parser = argparse.ArgumentParser(description=build_ratings_sample.__doc__)
    parser.add_argument("source_dir", type=Path, help="folder holding book-crossing/")
    parser.add_argument("--books", type=Path, default=SAMPLE_PATH, help="the sample books table")
    parser.add_argument("--out", type=Path, default=SAMPLE_RATINGS_PATH)
    args = parser.parse_args(argv)
    print(build_ratings_sample(args.source_dir, args.books, args.out).summary())


if __name__ == "__main__":
    main()
