"""Ingest a user's own catalog (CSV, JSON Lines or Parquet) through a column mapping."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from vibeshelf.catalog.schema import CatalogError, read_error
from vibeshelf.catalog.table import IngestReport, connect, sql_string, write_books

# Our columns a mapping may name (`document` is always built here).
FIELDS: tuple[str, ...] = (
    "book_id", "title", "authors", "year", "language", "average_rating", "ratings_count",
    "shelves", "description", "description_source", "url", "cover_url", "work_id", "isbn10",
)
REQUIRED: tuple[str, ...] = ("book_id", "title")
LIST_FIELDS = frozenset({"authors", "shelves"})

READERS: dict[str, str] = {
    "csv": "read_csv({path}, header = true, all_varchar = true, store_rejects = true)",
    "parquet": "read_parquet({path})",
}
# JSON Lines, where a malformed line reads as NULL; failing that, one array of objects.
JSON_LINES = "read_json_objects({path}, format = 'newline_delimited', ignore_errors = true)"
JSON_ARRAY = "read_json_objects({path}, format = 'array')"
IS_OBJECT = "coalesce(json_type(json) = 'OBJECT', false)"
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
SUFFIXES: dict[str, str] = {
    ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
ORD = "__vibeshelf_ord"


def ingest_file(
    path: Path, mapping: dict[str, str], out_path: Path, fmt: str | None = None
) -> IngestReport:
    """Write the books table from `path`, with `mapping` from our column names to the file's.

    Malformed lines (CSV, JSON Lines) and rows without id or title, with a repeated id or an
    unparseable year, rating or count are counted by reason and skipped; a file that cannot be
    read at all raises CatalogError.
    """
    _check_mapping(mapping)
    kind = _format(path, fmt)
    if not path.is_file():
        raise CatalogError(f"no such file: {path}")
    with connect() as con:
        types, malformed = _load(con, path, kind)
        missing = [theirs for theirs in mapping.values() if theirs not in types]
        if missing:
            raise CatalogError(
                f"{path.name} has no column {missing[0]!r}; its columns are: {', '.join(types)}"
            )
        selected = ", ".join(
            f"{_expression(ours, mapping.get(ours), types)} AS {ours}" for ours in FIELDS
        )
        con.execute(f"CREATE TEMP TABLE staged AS SELECT {ORD} AS ord, {selected} FROM source")
        return write_books(con, "staged", out_path, str(path), {"malformed_row": malformed})


def _check_mapping(mapping: dict[str, str]) -> None:
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise CatalogError(
            f"unknown column(s) in mapping: {', '.join(unknown)}; known: {', '.join(FIELDS)}"
        )
    absent = [field for field in REQUIRED if not mapping.get(field)]
    if absent:
        raise CatalogError(
            f"the mapping must name the file's {' and '.join(absent)} column "
            f"(e.g. --map {absent[0]}=<column>)"
        )


def _format(path: Path, fmt: str | None) -> str:
    """csv, jsonl or parquet: from `fmt`, else from the suffix (a trailing .gz is ignored)."""
    if fmt:
        kind = {"json": "jsonl", "ndjson": "jsonl"}.get(fmt.lower(), fmt.lower())
        if kind not in FORMATS:
            raise CatalogError(f"unknown format {fmt!r}: use csv, jsonl or parquet")
        return kind
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    detected = SUFFIXES.get(suffixes[-1] if suffixes else "")
    if detected is None:
        raise CatalogError(f"cannot tell the format of {path.name}: give csv, jsonl or parquet")
    return detected


def _load(
    con: duckdb.DuckDBPyConnection, path: Path, kind: str
) -> tuple[dict[str, str], int]:
    """Table `source` (the file plus its row order); returns its column types by name and the
    number of malformed lines skipped."""
    try:
        malformed = _load_json(con, path) if kind == "jsonl" else _load_table(con, path, kind)
    except duckdb.Error as exc:
        raise read_error(path, exc) from exc
    rows = con.execute("DESCRIBE source").fetchall()
    return {name: dtype for name, dtype, *_ in rows if name != ORD}, malformed


def _load_table(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> int:
    """Stage a CSV or Parquet file; returns the CSV lines DuckDB could not parse."""
    reader = READERS[kind].format(path=sql_string(path))
    con.execute(
        f"CREATE TEMP TABLE source AS SELECT *, row_number() OVER () AS {ORD} FROM {reader}"
    )
    return _rejected_rows(con) if kind == "csv" else 0


def _load_json(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Stage the JSON objects of a JSON Lines file (or of one JSON array), typed by their merged
    structure; returns the lines that were not a JSON object (malformed JSON, bare values)."""
    malformed, structure = _stage_values(con, JSON_LINES.format(path=sql_string(path)))
    if structure is None:
        with contextlib.suppress(duckdb.Error):  # not an array either: keep the lines' count
            malformed, structure = _stage_values(con, JSON_ARRAY.format(path=sql_string(path)))
    if structure is None:
        raise CatalogError(f"no JSON objects in {path} ({malformed} malformed lines)")
    con.execute(
        f"CREATE TEMP TABLE source AS SELECT unnest(json_transform(json, "
        f"{sql_string(structure)})), {ORD} FROM lines WHERE {IS_OBJECT}"
    )
    return malformed


def _stage_values(con: duckdb.DuckDBPyConnection, reader: str) -> tuple[int, str | None]:
    """Table `lines` of JSON values; returns the non-objects and the objects' structure."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE lines AS "
        f"SELECT json, row_number() OVER () AS {ORD} FROM {reader}"
    )
    row = con.execute(
        f"SELECT (SELECT count(*) FROM lines WHERE NOT {IS_OBJECT}), "
        f"(SELECT json_group_structure(json) FROM lines WHERE {IS_OBJECT})"
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def _expression(ours: str, theirs: str | None, types: dict[str, str]) -> str:
    """SQL staging one of our columns as text (lists of text for authors and shelves)."""
    if theirs is None:
        return "NULL::VARCHAR[]" if ours in LIST_FIELDS else "NULL::VARCHAR"
    column = '"' + theirs.replace('"', '""') + '"'
    dtype = types[theirs]
    text = f"CAST({column} AS VARCHAR)"
    if dtype == "JSON":  # mixed value types: strings unquoted, lists as JSON text
        text = f"json_extract_string({column}, '$')"
    if ours not in LIST_FIELDS:
        return text
    return f"CAST({column} AS VARCHAR[])" if dtype.endswith("[]") else f"split_delimited({text})"


def _rejected_rows(con: duckdb.DuckDBPyConnection) -> int:
    """CSV lines DuckDB could not parse (wrong field count, bad quoting)."""
    row = con.execute("SELECT count(DISTINCT (scan_id, line)) FROM reject_errors").fetchone()
    return int(row[0]) if row else 0
