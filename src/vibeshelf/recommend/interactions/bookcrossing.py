"""Book-Crossing ratings: their own ISBN item space, and those linked to the catalog by ISBN-10."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from vibeshelf.recommend.duckdb_session import connect
from vibeshelf.recommend.interactions.cleaning import clean
from vibeshelf.recommend.interactions.linking import link_isbns
from vibeshelf.recommend.interactions.report import IngestError, InteractionsReport, require_file
from vibeshelf.recommend.storage.base import InteractionStore, SourceInfo
from vibeshelf.storage.duck import read_lines, run

log = logging.getLogger(__name__)

BX_DIR = "book-crossing"
BX_RATINGS = "BX-Book-Ratings.csv.gz"
BX_ENCODING = "latin-1"
BX_RATING_MAX = 10.0

BOOK_CROSSING = "book-crossing"
BOOK_CROSSING_LINKED = "book-crossing-goodbooks"


def ingest_book_crossing(
    source_dir: Path, store: InteractionStore, books_path: Path | None
) -> list[InteractionsReport]:
    """BX ratings as their own ISBN item space, plus the ratings linked to the catalog by ISBN-10."""
    path = Path(source_dir) / BX_DIR / BX_RATINGS
    con = connect()
    _stage_bx_ratings(con, path)
    report = clean(con, path, BOOK_CROSSING, items="isbn", rating_max=BX_RATING_MAX)
    store.replace_source(SourceInfo(BOOK_CROSSING, "book-crossing"), con.table("kept").to_arrow_table())
    reports = [report]
    if books_path is not None and books_path.is_file():
        linked = InteractionsReport(BOOK_CROSSING_LINKED, str(path), rows_read=report.rows_kept)
        link_isbns(con, books_path, linked)
        store.replace_source(
            SourceInfo(BOOK_CROSSING_LINKED, "catalog"), con.table("kept").to_arrow_table()
        )
        reports.append(linked)
    else:
        log.warning("no catalog at %s: Book-Crossing ratings not linked to it", books_path)
    return reports


def _stage_bx_ratings(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`"User-ID";"ISBN";"Book-Rating"` lines split on `";"`, so stray quotes cannot shift fields."""
    require_file(path)
    try:
        read_lines(con, path, "lines", BX_ENCODING, header=True)
    except duckdb.Error as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc
    run(
        con,
        r"""
        CREATE OR REPLACE TEMP VIEW staged AS
        SELECT line AS raw, p[1] AS user_raw, p[2] AS item_raw, p[3] AS rating_raw,
               NULL::VARCHAR AS event_raw, NULL::VARCHAR AS ts_raw,
               CASE WHEN coalesce(trim(line), '') = '' THEN 'blank_line'
                    WHEN len(p) <> 3 THEN 'wrong_field_count'
                    WHEN NOT regexp_full_match(trim(p[1]), '[0-9]+') THEN 'bad_user'
                    WHEN NOT regexp_full_match(trim(p[3]), '[0-9]+') THEN 'bad_rating' END AS fault
        FROM (SELECT line, string_split(regexp_replace(trim(line), '^"(.*)"$', '\1'), '";"') AS p
              FROM lines)
        """,
    )
