"""Writing the books table: the cleaning all sources share, in DuckDB, and atomic Parquet writes."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf import isbn
from vibeshelf.catalog.documents import build_document
from vibeshelf.catalog.genres import rank_genres
from vibeshelf.catalog.schema import (
    BOOKS_SCHEMA,
    SCHEMA_VERSION,
    CatalogError,
    manifest_path,
)
from vibeshelf.catalog.shelves import clean_shelves
from vibeshelf.storage import duck
from vibeshelf.storage.files import atomic_write, file_sha256

log = logging.getLogger(__name__)

# A Goodreads librarian's note opening a blurb: "Librarian's note: An alternate cover edition can
# be found here", "Alternate cover edition of ISBN 9780141439594." ... up to the link or ISBN.
ALTERNATE_COVER_NOTE = (
    r"(?i)^\W*[^.]{0,50}?alternat(?:e|ive)[- ]cover[^.]{0,100}?"
    r"(?:(?:isbn(?:13)?:? ?(?:13:? )?)?[0-9x]{10,13}(?: / [0-9]{13})?(?: \(isbn13: ?[0-9]{13}\))?"
    r"(?:[^.]{0,30}?\bhere)?|asin:? ?[a-z0-9]{10}|\bhere|#\d+)(?:,? (?:and )?here)*[.:]?\s*"
)
# A line break lost between sentences: "CERTAIN DEATH.THE HUNGER GAMES", "Wizardry.After".
# Two letters before the stop keep initials and abbreviations (J.D. Salinger, Ph.D.) intact.
LOST_BREAK = r"""([a-z]{2}|[A-Z]{2})([.!?]+["\x{201D}\x{2019})]?)([A-Z])"""

MACROS = f"""
CREATE MACRO clean_text(s) AS nullif(trim(regexp_replace(s, '[\\s\\pZ]+', ' ', 'g')), '');
CREATE MACRO parse_double(s) AS
    CASE WHEN isfinite(TRY_CAST(trim(s) AS DOUBLE)) THEN TRY_CAST(trim(s) AS DOUBLE) END;
CREATE MACRO parse_whole(s, lo, hi) AS
    CASE WHEN parse_double(s) = round(parse_double(s)) AND parse_double(s) BETWEEN lo AND hi
         THEN parse_double(s) END;
CREATE MACRO clean_language(s) AS
    CASE WHEN lower(clean_text(s)) = 'en' OR lower(clean_text(s)) LIKE 'en-%' THEN 'eng'
         ELSE lower(clean_text(s)) END;
CREATE MACRO clean_cover(s) AS
    CASE WHEN clean_text(s) NOT LIKE '%/nophoto/%' THEN clean_text(s) END;
CREATE MACRO unquote(s) AS
    CASE WHEN trim(s) LIKE '"%' THEN CASE
        WHEN trim(s) LIKE '%"' AND (length(trim(s)) - length(replace(trim(s), '"', ''))) % 2 = 0
            THEN substr(trim(s), 2, length(trim(s)) - 2)
        ELSE substr(trim(s), 2) END
    ELSE s END;
CREATE MACRO clean_description(s) AS clean_text(regexp_replace(
    regexp_replace(s, {"'" + ALTERNATE_COVER_NOTE.replace("'", "''") + "'"}, ''),
    {"'" + LOST_BREAK.replace("'", "''") + "'"}, '\\1\\2 \\3', 'g'));
"""

# Why a staged row is skipped; the first that applies is counted. Duplicate ids come after.
BAD_REASON = """CASE
    WHEN clean_text(book_id) IS NULL THEN 'missing_id'
    WHEN clean_text(title) IS NULL THEN 'missing_title'
    WHEN clean_text(year) IS NOT NULL AND parse_whole(year, -9999, 9999) IS NULL THEN 'bad_year'
    WHEN clean_text(average_rating) IS NOT NULL AND parse_double(average_rating) IS NULL
        THEN 'bad_rating'
    WHEN clean_text(ratings_count) IS NOT NULL AND parse_whole(ratings_count, 0, 9e15) IS NULL
        THEN 'bad_ratings_count'
END"""

# Where a kept description came from: "generated" (written by a language model) when the source
# says so, else "publisher" (the catalog's own blurb); NULL without a description.
DESCRIPTION_SOURCE = """CASE WHEN clean_description(description) IS NOT NULL THEN
    CASE WHEN lower(clean_text(description_source)) = 'generated' THEN 'generated'
         ELSE 'publisher' END END"""

# Staged (all text, lists of text) -> clean value, per column. `document` is built from these.
CLEAN_COLUMNS: dict[str, str] = {
    "book_id": "clean_text(book_id)",
    "work_id": "clean_text(work_id)",
    "title": "clean_text(title)",
    "authors": "clean_names(authors)",
    "year": "parse_whole(year, -9999, 9999)",
    "language": "clean_language(language)",
    "average_rating": "parse_double(average_rating)",
    "ratings_count": "coalesce(parse_whole(ratings_count, 0, 9e15), 0)",
    "shelves": "clean_shelves(shelves)",
    "description": "clean_description(description)",
    "description_source": DESCRIPTION_SOURCE,
    "url": "clean_text(url)",
    "cover_url": "clean_cover(cover_url)",
    "isbn10": "isbn10(isbn10)",
}
DOCUMENT = "build_document(title, authors, shelves, description)"


@dataclass(frozen=True)
class IngestReport:
    """What an ingest wrote and what it skipped."""

    rows: int
    bad_rows: dict[str, int]
    out_path: Path
    checksum: str
    source: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for people."""
        skipped = sum(self.bad_rows.values())
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(self.bad_rows.items()))
        bad = f"skipped {skipped:,} bad rows ({reasons})" if skipped else "no bad rows"
        return f"wrote {self.rows:,} books to {self.out_path} (sha256 {self.checksum[:12]}); {bad}"


# ---- pure helpers, also registered as DuckDB functions --------------------------------------
def clean_names(names: Iterable[str | None] | None) -> list[str]:
    """Trimmed, whitespace-collapsed, non-empty, de-duplicated names in order."""
    cleaned = (" ".join(n.split()) for n in names or () if n)
    return list(dict.fromkeys(n for n in cleaned if n))


def split_delimited(text: str | None) -> list[str]:
    """Names from "a|b", "a; b", "a, b" (the first of | ; , present) or a JSON list."""
    text = (text or "").strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            return clean_names(str(i) for i in items if i is not None)
    sep = next((s for s in "|;" if s in text), ",")
    return clean_names(text.split(sep))


def sql_string(value: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


# ---- DuckDB session and writing --------------------------------------------------------------
def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the cleaning macros and functions; close it after use."""
    con = duck.connect()
    text, texts = "VARCHAR", "VARCHAR[]"
    functions: tuple[tuple[str, Callable[..., Any], list[str], str], ...] = (
        ("clean_shelves", clean_shelves, [texts], texts),
        ("clean_names", clean_names, [texts], texts),
        ("split_delimited", split_delimited, [text], texts),
        ("build_document", build_document, [text, texts, texts, text], text),
    )
    for name, function, params, returns in functions:  # "special": the functions take NULLs
        con.create_function(  # type: ignore[call-overload]  # a str is accepted by every duckdb
            name, function, params, returns, null_handling="special"
        )
    con.execute(MACROS)
    isbn.register(con)
    return con


def write_books(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    out_path: Path,
    source: str,
    extra_bad: dict[str, int] | None = None,
    stats: dict[str, int] | None = None,
) -> IngestReport:
    """Validate, clean and write table `staged` as the books Parquet, with its manifest.

    `staged` has `ord` (source order) and every books column but `genres` and `document`, as
    VARCHAR (authors and shelves as VARCHAR[]). Bad rows are counted by reason and skipped.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT *, CASE WHEN reason IS NULL AND row_number() OVER (
                        PARTITION BY clean_text(book_id), reason IS NULL ORDER BY ord) > 1
                       THEN 'duplicate_id' ELSE reason END AS bad_reason
        FROM (SELECT *, {BAD_REASON} AS reason FROM {staged})
    """)
    counted = con.execute(
        "SELECT bad_reason, count(*) FROM checked WHERE bad_reason IS NOT NULL GROUP BY 1"
    ).fetchall()
    bad_rows = {k: v for k, v in (extra_bad or {}).items() if v} | dict(counted)
    invalid_isbn = con.execute(
        "SELECT count(*) FROM checked WHERE bad_reason IS NULL "
        "AND clean_text(isbn10) IS NOT NULL AND isbn10(isbn10) IS NULL"
    ).fetchone()
    if invalid_isbn and invalid_isbn[0]:
        stats = {**(stats or {}), "invalid_isbn10": invalid_isbn[0]}
        log.warning(
            "%d books from %s keep no ISBN-10: theirs fails its checksum, so ratings cannot link "
            "to them by ISBN", invalid_isbn[0], source,
        )
    if bad_rows:
        log.warning("skipping bad rows from %s: %s", source, bad_rows)
    good = con.execute("SELECT count(*) FROM checked WHERE bad_reason IS NULL").fetchone()
    if not good or not good[0]:
        raise CatalogError(f"no usable rows in {source} (bad rows: {bad_rows or 'none'})")
    clean = ", ".join(f"{expr} AS {name}" for name, expr in CLEAN_COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE cleaned AS SELECT ord, {clean} "
                "FROM checked WHERE bad_reason IS NULL")
    ords, shelves = zip(*con.execute("SELECT ord, shelves FROM cleaned").fetchall(), strict=True)
    con.register("ranked", pa.table({  # genres are ranked over the whole catalog
        "ord": pa.array(ords, pa.int64()),
        "genres": pa.array(rank_genres(shelves), pa.list_(pa.string())),
    }))
    typed = ", ".join(
        f"CAST({DOCUMENT if name == 'document' else name} AS {kind}) AS {name}"
        for name, kind in BOOKS_SCHEMA
    )
    query = f"SELECT {typed} FROM cleaned JOIN ranked USING (ord) ORDER BY ord"
    with staging_file(out_path) as tmp:
        con.execute(f"COPY ({query}) TO {sql_string(tmp)} (FORMAT parquet, COMPRESSION zstd)")
        return publish(tmp, out_path, source, bad_rows, stats or {})


@contextmanager
def staging_file(out_path: Path) -> Iterator[Path]:
    """A temporary path beside `out_path` (same file system, for os.replace); removed if left."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def publish(
    tmp: Path, out_path: Path, source: str, bad_rows: dict[str, int], stats: dict[str, int]
) -> IngestReport:
    """Move a finished books file into place atomically and write its manifest beside it."""
    report = IngestReport(
        rows=pq.ParquetFile(tmp).metadata.num_rows,
        bad_rows=bad_rows,
        out_path=out_path,
        checksum=file_sha256(tmp),
        source=source,
        stats=stats,
    )
    os.replace(tmp, out_path)
    _write_manifest(report)
    log.debug("%s", report.summary())
    return report


def _write_manifest(report: IngestReport) -> None:
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "file": report.out_path.name,
        "source": report.source,
        "rows": report.rows,
        "bad_rows": report.bad_rows,
        "stats": report.stats,
        "sha256": report.checksum,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write(manifest_path(report.out_path), json.dumps(manifest, indent=2) + "\n")


