"""Linking cleaned interactions to the catalog: ISBNs to catalog book ids, or ids checked."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from vibeshelf.recommend.interactions.cleaning import count_kept, keep
from vibeshelf.recommend.interactions.report import IngestError, InteractionsReport
from vibeshelf.storage.duck import run, scalar

log = logging.getLogger(__name__)


def existing_catalog(books_path: Path | None, items: str) -> Path:
    """`books_path`, or IngestError when `items` should link to a catalog that is not there."""
    if books_path is None or not books_path.is_file():
        raise IngestError(f"items={items} links to the catalog, but there is none at {books_path}")
    return books_path


def link_isbns(
    con: duckdb.DuckDBPyConnection, books_path: Path, report: InteractionsReport
) -> None:
    """Replace the ISBN-10s of `kept` by catalog book ids; rows not in the catalog are dropped.

    ISBNs were normalised to ISBN-10 by the `isbn10` macro (vibeshelf.isbn) while cleaning.
    """
    _catalog_ids(con, books_path)
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE linked AS
        SELECT k.* REPLACE (c.book_id AS item_id), c.book_id IS NULL AS unmatched
        FROM kept k LEFT JOIN (SELECT isbn10, min(book_id) AS book_id FROM catalog_isbn
                               WHERE isbn10 IS NOT NULL GROUP BY isbn10) c ON k.item_id = c.isbn10
        """,
    )
    _drop_unmatched(con, "SELECT * FROM linked", report)


def keep_catalog_books(
    con: duckdb.DuckDBPyConnection, books_path: Path, report: InteractionsReport
) -> None:
    """Drop the rows of `kept` whose item is not a catalog book id, counted as not_in_catalog."""
    _catalog_ids(con, books_path)
    unknown = "item_id NOT IN (SELECT book_id FROM catalog_isbn)"
    _drop_unmatched(con, f"SELECT *, {unknown} AS unmatched FROM kept", report)


def _drop_unmatched(con: duckdb.DuckDBPyConnection, query: str, report: InteractionsReport) -> None:
    """`kept` := the rows of `query` not flagged `unmatched`; those counted as not_in_catalog."""
    unmatched = scalar(con, f"SELECT count(*) FROM ({query}) WHERE unmatched")
    if unmatched:
        report.dropped["not_in_catalog"] = unmatched
    keep(con, f"SELECT * FROM ({query}) WHERE NOT unmatched")
    count_kept(con, report)
    log.debug(report.summary())  # the CLI prints it


def _catalog_ids(con: duckdb.DuckDBPyConnection, books_path: Path) -> None:
    """Table `catalog_isbn(isbn10, book_id)`: every catalog book, with its ISBN-10 where it has one."""
    try:
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE catalog_isbn AS SELECT isbn10(isbn10) AS isbn10, "
            "CAST(book_id AS VARCHAR) AS book_id FROM read_parquet($path)",
            {"path": str(books_path)},
        )
    except duckdb.Error as exc:
        raise IngestError(f"cannot read the catalog {books_path}: {exc}") from exc
