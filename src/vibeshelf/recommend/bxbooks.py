"""The Book-Crossing books (BX-Books) as their own small catalog: ISBN-10, title, author, year, cover."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from vibeshelf.recommend.duckdb_session import connect
from vibeshelf.recommend.interactions.bookcrossing import BX_DIR, BX_ENCODING
from vibeshelf.recommend.interactions.report import IngestError, InteractionsReport
from vibeshelf.storage.duck import literal, read_lines, run, scalar

log = logging.getLogger(__name__)

BX_BOOKS = "BX-Books.csv.gz"
BX_FIELDS = 8
BX_BOOKS_FILE = "bx-books.parquet"


def ingest_bx_books(source_dir: Path, out_path: Path) -> InteractionsReport:
    """BX-Books.csv.gz -> Parquet (item_id, title, authors, year, publisher, cover_url, genres).

    Lines are split on `";"` (every field is quoted), so the file's `\\"` escapes and stray quotes
    cannot merge rows; `&amp;` and friends are unescaped; years outside 1450..now become null.
    """
    path = Path(source_dir) / BX_DIR / BX_BOOKS
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    con = connect()
    try:
        read_lines(con, path, "lines", BX_ENCODING, header=True)
        _stage(con)
    except duckdb.Error as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc
    report = InteractionsReport(source="bx-books", path=str(path))
    report.rows_read = scalar(con, "SELECT count(*) FROM staged")
    report.dropped = dict(
        run(con, "SELECT reason, count(*) FROM staged WHERE reason IS NOT NULL GROUP BY 1")
    )
    duplicates = scalar(
        con, "SELECT count(*) - count(DISTINCT item_id) FROM staged WHERE reason IS NULL"
    )
    if duplicates:
        report.dropped["duplicate"] = duplicates
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    run(
        con,
        f"""
        COPY (SELECT item_id, title, authors, year, publisher, cover_url, []::VARCHAR[] AS genres
              FROM staged WHERE reason IS NULL QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY title, publisher, year) = 1
              ORDER BY item_id) TO {literal(tmp)} (FORMAT parquet)
        """,
    )
    os.replace(tmp, out_path)
    report.rows_kept = report.items = scalar(
        con, f"SELECT count(*) FROM read_parquet({literal(out_path)})"
    )
    log.debug(report.summary())  # the CLI prints it
    return report


def _stage(con: duckdb.DuckDBPyConnection) -> None:
    year_max = datetime.now(UTC).year + 1
    run(
        con,
        rf"""
        CREATE TEMP TABLE staged AS
        SELECT isbn10(p[1]) AS item_id, clean_text(p[2]) AS title,
               CASE WHEN clean_text(p[3]) IS NULL THEN []::VARCHAR[] ELSE [clean_text(p[3])] END AS authors,
               CASE WHEN try_cast(p[4] AS INTEGER) BETWEEN 1450 AND {year_max}
                    THEN try_cast(p[4] AS INTEGER) END AS year,
               clean_text(p[5]) AS publisher, nullif(trim(p[8]), '') AS cover_url,
               CASE WHEN len(p) <> {BX_FIELDS} THEN 'wrong_field_count'
                    WHEN isbn10(p[1]) IS NULL THEN 'invalid_isbn'
                    WHEN clean_text(p[2]) IS NULL THEN 'missing_title' END AS reason
        FROM (SELECT string_split(regexp_replace(trim(line), '^"(.*)"$', '\1'), '";"') AS p
              FROM lines WHERE trim(line) <> '')
        """,
    )
