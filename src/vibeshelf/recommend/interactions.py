"""Interactions ingest with DuckDB: Book-Crossing ratings, the Goodreads-style file and your own files.

Every reader stages raw text columns (user_raw, item_raw, rating_raw, event_raw, ts_raw, fault,
raw); one cleaning query turns them into SCHEMA rows and names the reason each bad row is dropped.
A bad row is counted, never fatal; a file that cannot be read at all raises IngestError.

Ratings: `strength` = rating / rating_max for a rating > 0; a rating of 0 (Book-Crossing's and
Goodreads' "implicit": read or shelved, not rated) or no rating at all keeps strength null, and
training decides what an implicit row is worth (see recommend.confidence).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from vibeshelf.recommend.duckdb_session import connect
from vibeshelf.recommend.storage.base import SCHEMA, InteractionStore, SourceInfo
from vibeshelf.storage.duck import literal, read_lines, run, scalar

log = logging.getLogger(__name__)

BX_DIR = "book-crossing"
BX_RATINGS = "BX-Book-Ratings.csv.gz"
BX_ENCODING = "latin-1"
BX_RATING_MAX = 10.0
GOODREADS_FILE = Path("goodreads-interactions") / "train_Interactions.csv.gz"
GOODREADS_RATING_MAX = 5.0

BOOK_CROSSING = "book-crossing"
BOOK_CROSSING_LINKED = "book-crossing-goodbooks"
GOODREADS = "goodreads"

FIELDS = ("user", "item", "rating", "event", "timestamp")
ITEM_MODES = ("own", "catalog", "isbn")
RATING_SCALES = (1.0, 5.0, 10.0, 100.0)
EXAMPLES_PER_REASON = 3


class IngestError(RuntimeError):
    """A file cannot be read at all (missing, not the format it claims, wrong columns)."""


@dataclass
class InteractionsReport:
    """What one source received and what was dropped, by reason."""

    source: str
    path: str
    rows_read: int = 0
    rows_kept: int = 0
    users: int = 0
    items: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        who = f"{self.users:,} users, " if self.users else ""
        line = (
            f"{self.source}: {self.rows_read:,} rows read from {self.path}, {self.rows_kept:,} kept "
            f"({who}{self.items:,} items)"
        )
        if not self.dropped:
            return line + "; nothing dropped"
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(self.dropped.items()))
        return f"{line}; dropped: {reasons}"


# ---- public entry points ------------------------------------------------------------------------
def ingest_book_crossing(
    source_dir: Path, store: InteractionStore, books_path: Path | None
) -> list[InteractionsReport]:
    """BX ratings as their own ISBN item space, plus the ratings linked to the catalog by ISBN-10."""
    path = Path(source_dir) / BX_DIR / BX_RATINGS
    con = connect()
    _stage_bx_ratings(con, path)
    report = _clean(con, path, BOOK_CROSSING, items="isbn", rating_max=BX_RATING_MAX)
    rows = con.table("kept").to_arrow_table()
    store.replace_source(SourceInfo(BOOK_CROSSING, "book-crossing"), rows)
    reports = [report]
    if books_path is not None and books_path.is_file():
        reports.append(_link_to_catalog(con, path, BOOK_CROSSING_LINKED, books_path, store))
    else:
        log.warning("no catalog at %s: Book-Crossing ratings not linked to it", books_path)
    return reports


def ingest_goodreads(source_dir: Path, store: InteractionStore) -> InteractionsReport:
    """The anonymised Goodreads-style ratings (0-5, 0 = implicit) as their own item space."""
    mapping = {"user": "userID", "item": "bookID", "rating": "rating"}
    path = Path(source_dir) / GOODREADS_FILE
    return ingest_file(path, mapping, store, GOODREADS, rating_max=GOODREADS_RATING_MAX)


def ingest_file(
    path: Path,
    mapping: dict[str, str],
    store: InteractionStore,
    source: str,
    items: str = "own",
    fmt: str | None = None,
    rating_max: float | None = None,
    books_path: Path | None = None,
) -> InteractionsReport:
    """Your own CSV/JSONL/Parquet of (user, item, rating or event, timestamp).

    `mapping` maps our field names (user, item, rating, event, timestamp) to your column names;
    user and item are required. `items` says what the item column holds: `own` ids (their own
    item space), catalog `book_id`s, or ISBNs linked to the catalog by ISBN-10. Without
    `rating_max` the scale is the smallest of 1, 5, 10, 100 that holds every rating.
    """
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown or not {"user", "item"} <= set(mapping):
        raise IngestError(f"mapping needs user and item, and only {FIELDS}; got {sorted(mapping)}")
    if items not in ITEM_MODES:
        raise IngestError(f"items must be one of {ITEM_MODES}, not {items!r}")
    catalog = None if items == "own" else _existing_catalog(books_path, items)
    path = Path(path)
    con = connect()
    _stage_file(con, path, mapping, fmt or _format_of(path))
    scale = rating_max or _infer_scale(con)
    report = _clean(con, path, source, items="isbn" if items == "isbn" else "own", rating_max=scale)
    if catalog is None:
        store.replace_source(SourceInfo(source, "own"), con.table("kept").to_arrow_table())
        return report
    if items == "isbn":
        return _link_to_catalog(con, path, source, catalog, store, parent=report)
    _keep_catalog_books(con, catalog, report)
    store.replace_source(SourceInfo(source, "catalog"), con.table("kept").to_arrow_table())
    return report


def _existing_catalog(books_path: Path | None, items: str) -> Path:
    if books_path is None or not books_path.is_file():
        raise IngestError(f"items={items} links to the catalog, but there is none at {books_path}")
    return books_path


# ---- staging ------------------------------------------------------------------------------------
def _stage_bx_ratings(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`"User-ID";"ISBN";"Book-Rating"` lines split on `";"`, so stray quotes cannot shift fields."""
    _require_file(path)
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


def _stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: dict[str, str], fmt: str
) -> None:
    """`source` (the file as read) -> `staged`, with the mapped columns as text."""
    _require_file(path)
    try:
        if fmt == "csv":
            run(
                con,
                "CREATE TEMP TABLE source AS SELECT * FROM read_csv($path, all_varchar=true, "
                "header=true, store_rejects=true, rejects_table='csv_rejects')",
                {"path": str(path)},
            )
        elif fmt == "parquet":
            run(con, f"CREATE TEMP VIEW source AS SELECT * FROM read_parquet({literal(path)})")
        elif fmt == "jsonl":
            read_lines(con, path, "source")
        else:
            raise IngestError(f"unknown format {fmt!r}: expected csv, jsonl or parquet")
        if fmt == "jsonl":
            parts = {
                f: f"CASE WHEN json_valid(line) THEN json_extract_string(line, {_json_path(c)}) END"
                for f, c in mapping.items()
            }
            fault = "CASE WHEN coalesce(trim(line), '') = '' THEN 'blank_line' WHEN NOT json_valid(line) THEN 'bad_json' END"
        else:
            _require_columns(con, path, mapping)
            parts = {f: f"CAST({_ident(c)} AS VARCHAR)" for f, c in mapping.items()}
            fault = "NULL"
        values = {f: parts.get(f, "NULL::VARCHAR") for f in FIELDS}
        raw = "line" if fmt == "jsonl" else f"concat_ws(' | ', {', '.join(parts.values())})"
        run(
            con,
            f"""
            CREATE OR REPLACE TEMP VIEW staged AS
            SELECT {raw} AS raw, {values["user"]} AS user_raw, {values["item"]} AS item_raw,
                   {values["rating"]} AS rating_raw, {values["event"]} AS event_raw,
                   {values["timestamp"]} AS ts_raw, {fault} AS fault
            FROM source
            """,
        )
        run(con, "SELECT count(*) FROM staged")
    except duckdb.Error as exc:
        raise IngestError(f"cannot read {path} as {fmt}: {exc}") from exc


def _require_columns(con: duckdb.DuckDBPyConnection, path: Path, mapping: dict[str, str]) -> None:
    available = [row[0] for row in run(con, "DESCRIBE source")]
    absent = [c for c in mapping.values() if c not in available]
    if absent:
        raise IngestError(f"{path} has no column(s) {absent}; it has {available}")


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise IngestError(f"{path}: no such file")


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zst")]
    last = suffixes[-1] if suffixes else ""
    formats = {
        ".csv": "csv",
        ".tsv": "csv",
        ".txt": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
        ".parquet": "parquet",
        ".pq": "parquet",
    }
    if last not in formats:
        raise IngestError(f"cannot tell the format of {path.name}: pass csv, jsonl or parquet")
    return formats[last]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(name: str) -> str:
    return "'$.\"" + name.replace("'", "''").replace('"', '\\"') + "\"'"


def _infer_scale(con: duckdb.DuckDBPyConnection) -> float:
    top = scalar(con, "SELECT max(try_cast(trim(rating_raw) AS DOUBLE)) FROM staged")
    return next((s for s in RATING_SCALES if top is None or top <= s), RATING_SCALES[-1])


# ---- cleaning -----------------------------------------------------------------------------------
def _clean(
    con: duckdb.DuckDBPyConnection, path: Path, source: str, items: str, rating_max: float
) -> InteractionsReport:
    """staged -> `checked` (every row with its drop reason or none) -> `kept` (deduplicated)."""
    item = "isbn10(item_raw)" if items == "isbn" else "nullif(trim(item_raw), '')"
    missing_item = "invalid_isbn" if items == "isbn" else "missing_item"
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT *, CASE
                WHEN fault IS NOT NULL THEN fault
                WHEN user_id IS NULL THEN 'missing_user'
                WHEN item_id IS NULL THEN '{missing_item}'
                WHEN rating_raw IS NOT NULL AND trim(rating_raw) <> '' AND rating IS NULL THEN 'bad_rating'
                WHEN rating < 0 OR rating > $max THEN 'bad_rating'
                WHEN ts_raw IS NOT NULL AND trim(ts_raw) <> '' AND ts IS NULL THEN 'bad_timestamp'
            END AS reason
        FROM (
            SELECT *, nullif(trim(user_raw), '') AS user_id, {item} AS item_id,
                   try_cast(nullif(trim(rating_raw), '') AS DOUBLE) AS rating,
                   nullif(trim(event_raw), '') AS event_name,
                   CASE WHEN regexp_full_match(trim(ts_raw), '[0-9]+(\\.[0-9]+)?')
                        THEN try_cast(to_timestamp(trim(ts_raw)::DOUBLE
                             / CASE WHEN trim(ts_raw)::DOUBLE > 1e11 THEN 1000 ELSE 1 END) AS TIMESTAMP)
                        ELSE try_cast(try_cast(trim(ts_raw) AS TIMESTAMPTZ) AS TIMESTAMP) END AS ts
            FROM staged
        )
        """,
        {"max": rating_max},
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT user_id, item_id, rating,
               CASE WHEN rating > 0 THEN rating / $max END AS strength,
               coalesce(event_name, CASE WHEN rating > 0 THEN 'rating' ELSE 'implicit' END) AS event,
               ts,
               row_number() OVER (PARTITION BY user_id, item_id
                                  ORDER BY rating DESC NULLS LAST, ts DESC NULLS LAST, event_name) AS copy
        FROM checked WHERE reason IS NULL
        """,
        {"max": rating_max},
    )
    _keep(con, "SELECT * EXCLUDE (copy) FROM ranked WHERE copy = 1")
    report = InteractionsReport(source=source, path=str(path))
    for reason, n in run(
        con,
        "SELECT reason, count(*) FROM checked WHERE reason IS NOT NULL AND reason <> 'blank_line' GROUP BY 1",
    ):
        report.dropped[reason] = n
    duplicates = scalar(con, "SELECT count(*) FROM ranked WHERE copy > 1")
    if duplicates:
        report.dropped["duplicate"] = duplicates
    if _has_table(con, "csv_rejects"):
        rejects = scalar(con, "SELECT count(*) FROM csv_rejects")
        if rejects:
            report.dropped["unparseable_line"] = rejects
    report.rows_read = scalar(
        con, "SELECT count(*) FROM checked WHERE reason IS DISTINCT FROM 'blank_line'"
    ) + report.dropped.get("unparseable_line", 0)
    report.examples = {
        reason: [r[:120] for r in rows if r]
        for reason, rows in run(
            con,
            f"SELECT reason, list(raw)[:{EXAMPLES_PER_REASON}] FROM checked "
            "WHERE reason IS NOT NULL AND reason <> 'blank_line' GROUP BY 1",
        )
    }
    _count_kept(con, report)
    log.debug(report.summary())  # the CLI prints it
    return report


def _keep(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Table `kept` := the SCHEMA columns of `query` (which may read the old `kept`)."""
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE kept_next AS SELECT {', '.join(SCHEMA.names)} FROM ({query}) "
        "ORDER BY user_id, item_id",
    )
    run(con, "DROP TABLE IF EXISTS kept")
    run(con, "ALTER TABLE kept_next RENAME TO kept")


def _count_kept(con: duckdb.DuckDBPyConnection, report: InteractionsReport) -> None:
    report.rows_kept, report.users, report.items = run(
        con, "SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM kept"
    )[0]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    query = "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name"
    return bool(scalar(con, query, {"name": name}))


# ---- linking to the catalog ---------------------------------------------------------------------
def _catalog_ids(con: duckdb.DuckDBPyConnection, books_path: Path) -> None:
    """View `catalog_isbn(isbn10, book_id)`: every catalog book, with its ISBN-10 where it has one."""
    try:
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE catalog_isbn AS SELECT isbn10(isbn10) AS isbn10, "
            "CAST(book_id AS VARCHAR) AS book_id FROM read_parquet($path)",
            {"path": str(books_path)},
        )
    except duckdb.Error as exc:
        raise IngestError(f"cannot read the catalog {books_path}: {exc}") from exc


def _link_to_catalog(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: str,
    books_path: Path,
    store: InteractionStore,
    parent: InteractionsReport | None = None,
) -> InteractionsReport:
    """Replace ISBNs by catalog book ids; rows whose ISBN is not in the catalog are dropped."""
    _catalog_ids(con, books_path)
    report = parent or InteractionsReport(source=source, path=str(path))
    if parent is None:
        report.rows_read = scalar(con, "SELECT count(*) FROM kept")
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE linked AS
        SELECT k.* REPLACE (c.book_id AS item_id), c.book_id IS NULL AS unmatched
        FROM kept k LEFT JOIN (SELECT isbn10, min(book_id) AS book_id FROM catalog_isbn
                               WHERE isbn10 IS NOT NULL GROUP BY isbn10) c ON k.item_id = c.isbn10
        """,
    )
    unmatched = scalar(con, "SELECT count(*) FROM linked WHERE unmatched")
    if unmatched:
        report.dropped["not_in_catalog"] = unmatched
    _keep(con, "SELECT * EXCLUDE (unmatched) FROM linked WHERE NOT unmatched")
    _count_kept(con, report)
    store.replace_source(SourceInfo(source, "catalog"), con.table("kept").to_arrow_table())
    log.debug(report.summary())  # the CLI prints it
    return report


def _keep_catalog_books(
    con: duckdb.DuckDBPyConnection, books_path: Path, report: InteractionsReport
) -> None:
    """Drop kept rows whose item is not a catalog book id, counted as not_in_catalog."""
    _catalog_ids(con, books_path)
    known = "item_id IN (SELECT book_id FROM catalog_isbn)"
    unmatched = scalar(con, f"SELECT count(*) FROM kept WHERE NOT {known}")
    if unmatched:
        report.dropped["not_in_catalog"] = unmatched
    _keep(con, f"SELECT * FROM kept WHERE {known}")
    _count_kept(con, report)
