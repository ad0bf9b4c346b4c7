"""The books table's schema (one definition of its columns) and reading it back, checked."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog.genres import rank_genres

SCHEMA_VERSION = 2
MANIFEST_FILE = "manifest.json"

# Column name -> DuckDB type, in file order. Other modules depend on it: change SCHEMA_VERSION too.
BOOKS_SCHEMA: tuple[tuple[str, str], ...] = (
    ("book_id", "VARCHAR"),
    ("work_id", "VARCHAR"),
    ("title", "VARCHAR"),
    ("authors", "VARCHAR[]"),
    ("year", "INTEGER"),
    ("language", "VARCHAR"),
    ("average_rating", "DOUBLE"),
    ("ratings_count", "BIGINT"),
    ("shelves", "VARCHAR[]"),
    ("genres", "VARCHAR[]"),
    ("description", "VARCHAR"),
    ("description_source", "VARCHAR"),
    ("url", "VARCHAR"),
    ("cover_url", "VARCHAR"),
    ("isbn10", "VARCHAR"),
    ("document", "VARCHAR"),
)
COLUMNS: tuple[str, ...] = tuple(name for name, _ in BOOKS_SCHEMA)
ARROW_SCHEMA = pa.schema([
    (name, {"VARCHAR": pa.string(), "VARCHAR[]": pa.list_(pa.string()), "INTEGER": pa.int32(),
            "DOUBLE": pa.float64(), "BIGINT": pa.int64()}[kind])
    for name, kind in BOOKS_SCHEMA
])
# Schema version 1 had no `genres` and no `description_source`; such a table is read with its
# genres computed from shelves and every description taken as the publisher's (v1 had no other).
V1_ARROW_SCHEMA = pa.schema([f for f in ARROW_SCHEMA if f.name not in ("genres", "description_source")])


class CatalogError(Exception):
    """A catalog source that cannot be read at all; the message is one line for people."""


def read_error(path: Path, exc: Exception) -> CatalogError:
    """A one-line CatalogError for a file DuckDB could not read."""
    lines = str(exc).strip().splitlines()
    return CatalogError(f"cannot read {path}: {lines[0] if lines else type(exc).__name__}")


def manifest_path(books_path: Path) -> Path:
    return books_path.with_name(MANIFEST_FILE)


def read_books(path: Path) -> pa.Table:
    """The books table, checked against the schema; a version 1 table gets its genres and
    description sources here."""
    if check_books_file(path):
        return pq.read_table(path)
    table = pq.read_table(path)
    genres = pa.array(rank_genres(table.column("shelves").to_pylist()), pa.list_(pa.string()))
    table = table.add_column(ARROW_SCHEMA.get_field_index("genres"), "genres", genres)
    sources = pa.array(["publisher" if d else None for d in table.column("description").to_pylist()],
                       pa.string())
    return table.add_column(ARROW_SCHEMA.get_field_index("description_source"), "description_source", sources)


def check_books_file(path: Path) -> bool:
    """Raise CatalogError unless `path` is a readable Parquet file with the books schema; False
    for a version 1 table (no genres, no description sources), which read_books still reads."""
    if not path.is_file():
        raise CatalogError(f"no catalog at {path}: run `vibeshelf ingest` first")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise read_error(path, exc) from exc
    fields = [(f.name, f.type) for f in schema]
    if fields == [(f.name, f.type) for f in ARROW_SCHEMA]:
        return True
    if fields == [(f.name, f.type) for f in V1_ARROW_SCHEMA]:
        return False
    raise CatalogError(f"{path} is not a books table (schema version {SCHEMA_VERSION})")
