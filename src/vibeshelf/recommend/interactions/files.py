"""Your own interactions file (CSV, JSONL or Parquet) read through a column mapping."""

from __future__ import annotations

from pathlib import Path

import duckdb

from vibeshelf.recommend.duckdb_session import connect
from vibeshelf.recommend.interactions.cleaning import clean, infer_scale
from vibeshelf.recommend.interactions.linking import (
    existing_catalog,
    keep_catalog_books,
    link_isbns,
)
from vibeshelf.recommend.interactions.report import IngestError, InteractionsReport, require_file
from vibeshelf.recommend.storage.base import InteractionStore, SourceInfo
from vibeshelf.storage.duck import literal, read_lines, run

FIELDS = ("user", "item", "rating", "event", "timestamp")
ITEM_MODES = ("own", "catalog", "isbn")
FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


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
    catalog = None if items == "own" else existing_catalog(books_path, items)
    path = Path(path)
    con = connect()
    _stage_file(con, path, mapping, fmt or _format_of(path))
    scale = rating_max or infer_scale(con)
    report = clean(con, path, source, items="isbn" if items == "isbn" else "own", rating_max=scale)
    if catalog is not None:
        (link_isbns if items == "isbn" else keep_catalog_books)(con, catalog, report)
    space = "own" if catalog is None else "catalog"
    store.replace_source(SourceInfo(source, space), con.table("kept").to_arrow_table())
    return report


def _stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: dict[str, str], fmt: str
) -> None:
    """`source` (the file as read) -> `staged`, with the mapped columns as text."""
    require_file(path)
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


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zst")]
    last = suffixes[-1] if suffixes else ""
    if last not in FORMATS:
        raise IngestError(f"cannot tell the format of {path.name}: pass csv, jsonl or parquet")
    return FORMATS[last]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(name: str) -> str:
    return "'$.\"" + name.replace("'", "''").replace('"', '\\"') + "\"'"
