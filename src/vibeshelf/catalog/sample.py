"""The bundled sample: a deterministic, vibe-diverse slice of the books table, and its install."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from vibeshelf.catalog.schema import COLUMNS, check_books_file
from vibeshelf.catalog.table import IngestReport, publish, sql_string, staging_file
from vibeshelf.storage import duck

log = logging.getLogger(__name__)

# sample/books.parquet at the root of a source checkout (editable installs).
SAMPLE_PATH = Path(__file__).resolve().parents[3] / "sample" / "books.parquet"

# Described books first. Among them, a round robin over shelves: each shelf deals its books in a
# seeded order, and a book's turn is the earliest deal it gets, so every shelf (rare vibes too)
# is represented before any shelf gets a second book. Then popularity. Output keeps source order.
SELECT_SQL = """
WITH books AS (SELECT *, row_number() OVER () AS ord FROM read_parquet({path})),
dealt AS (
    SELECT book_id, row_number() OVER (
               PARTITION BY shelf ORDER BY md5(book_id || ':' || CAST($seed AS VARCHAR))) AS turn
    FROM (SELECT book_id, unnest(shelves) AS shelf FROM books WHERE description IS NOT NULL)),
turns AS (SELECT book_id, min(turn) AS turn FROM dealt GROUP BY book_id),
picked AS (
    SELECT books.* FROM books LEFT JOIN turns USING (book_id)
    ORDER BY description IS NULL, turn NULLS LAST, ratings_count DESC, ord
    LIMIT $n)
SELECT {columns} FROM picked ORDER BY ord
"""


def build_sample(books_path: Path, out_path: Path, n: int = 3000, seed: int = 7) -> IngestReport:
    """Write at most `n` books of `books_path` to `out_path` (same schema, zstd)."""
    check_books_file(books_path)
    query = SELECT_SQL.format(path=sql_string(books_path), columns=", ".join(COLUMNS))
    with duck.connect() as con, staging_file(out_path) as tmp:
        con.execute(
            f"COPY ({query}) TO {sql_string(tmp)} "
            "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 19)",
            {"seed": seed, "n": n},
        )
        described = con.execute(
            f"SELECT count(description) FROM read_parquet({sql_string(tmp)})"
        ).fetchone()
        stats = {"books_with_description": int(described[0]) if described else 0}
        source = f"sample of {books_path.name} (n={n}, seed={seed})"
        return publish(tmp, out_path, source, {}, stats)


def install_sample(books_path: Path, sample_path: Path = SAMPLE_PATH) -> IngestReport:
    """Copy the bundled sample into place as the books table."""
    check_books_file(sample_path)
    with staging_file(books_path) as tmp:
        shutil.copyfile(sample_path, tmp)
        return publish(tmp, books_path, f"bundled sample {sample_path}", {}, {})


def main(argv: list[str] | None = None) -> None:
    """`python -m vibeshelf.catalog.sample BOOKS OUT [--n N] [--seed S]`."""
    parser = argparse.ArgumentParser(description=build_sample.__doc__)
    parser.add_argument("books", type=Path, help="the full books.parquet")
    parser.add_argument("out", type=Path, help="where the sample goes")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log.info(build_sample(args.books, args.out, args.n, args.seed).summary())


if __name__ == "__main__":
    main()
