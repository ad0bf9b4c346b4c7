"""Speaking pgvector: numpy vectors in its binary form, records as COPY rows, filters as WHERE."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo

from vibeshelf.index import storelib
from vibeshelf.index.base import Records
from vibeshelf.index.filters import NUMERIC_FIELDS, Filter, Range, Tag

# Each dtype as the pgvector column type and the big-endian component format of its binary form.
# Queries and upserts send float32 `vector`s; PostgreSQL casts them to halfvec implicitly.
COLUMN_TYPES = {"float32": ("vector", ">f4"), "float16": ("halfvec", ">f2")}
INTEGER_FIELDS = ("year", "ratings_count")
REAL_FIELDS = ("average_rating",)
LIST_TAGS = ("shelves", "genres")  # text[] columns: a record matches when they share a value


class VectorDumper(Dumper):
    """numpy vectors in pgvector's binary format: dim, unused, big-endian floats."""

    format = Format.BINARY
    component = ">f4"

    def dump(self, obj: np.ndarray) -> bytes:
        vector = np.asarray(obj, dtype=self.component).reshape(-1)
        return struct.pack(">HH", vector.shape[0], 0) + vector.tobytes()


def sql_where(filters: Filter) -> tuple[sql.Composable, list[Any]]:
    """A WHERE clause for `filters` (empty when there are none) and its parameters."""
    parts: list[sql.Composable] = []
    args: list[Any] = []
    for clause in filters.clauses:
        column = sql.Identifier(clause.field)
        if isinstance(clause, Tag) and clause.field in LIST_TAGS:
            parts.append(sql.SQL("{} && %s").format(column))
            args.append(sorted(clause.values))
        elif isinstance(clause, Tag):
            parts.append(sql.SQL("{} = ANY(%s)").format(column))
            args.append(sorted(clause.values))
        else:
            parts.extend(_range(column, clause, args))
    if not parts:
        return sql.SQL(""), args
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(parts), args


def _range(column: sql.Identifier, clause: Range, args: list[Any]) -> list[sql.Composable]:
    # A real column holds 4.2 as 4.1999998: its bounds are rounded to real too, to compare alike.
    bound = "%s::real" if clause.field in REAL_FIELDS else "%s"
    parts = []
    if clause.low is not None:
        parts.append(sql.SQL("{} >= " + bound).format(column))
        args.append(float(clause.low))
    if clause.high is not None:
        parts.append(sql.SQL("{} <= " + bound).format(column))
        args.append(float(clause.high))
    return parts


def copy_rows(records: Records) -> Iterator[tuple[Any, ...]]:
    """One tuple per record in COLUMNS order; missing numbers as NULL, tags normalised."""
    for rid, vector, fields in zip(records.ids, records.vectors, records.fields, strict=True):
        numbers = {name: storelib.as_number(fields.get(name)) for name in NUMERIC_FIELDS}
        for name in INTEGER_FIELDS:
            if numbers[name] is not None:
                numbers[name] = round(numbers[name])
        language = storelib.as_tags(fields.get("language"))
        yield (
            rid,
            vector,
            numbers["year"],
            numbers["average_rating"],
            numbers["ratings_count"],
            language[0] if language else None,
            storelib.as_tags(fields.get("shelves")),
            storelib.as_tags(fields.get("genres")),
        )


def prepare(conn: psycopg.Connection) -> None:
    """Ensure pgvector, send numpy arrays as its vectors, and keep filtered scans going.

    numpy arrays go as float32 `vector`s; COPY into a halfvec column finds its dumper by type.
    """
    if TypeInfo.fetch(conn, "vector") is None:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.errors.UniqueViolation:  # another session created it just now
            pass
    dumpers = [_bind_dumper(conn, name, component) for name, component in COLUMN_TYPES.values()]
    conn.adapters.register_dumper(np.ndarray, dumpers[0])
    conn.execute("SET hnsw.iterative_scan = strict_order")


def _bind_dumper(conn: psycopg.Connection, name: str, component: str) -> type[VectorDumper]:
    """Register pgvector type `name` on `conn` with a binary dumper found by its oid."""
    info = TypeInfo.fetch(conn, name)
    if info is None:
        raise psycopg.errors.UndefinedObject(f"the pgvector extension (type {name}) is missing")
    info.register(conn)
    dumper = type(f"Bound{name}Dumper", (VectorDumper,), {"oid": info.oid, "component": component})
    conn.adapters.register_dumper(None, dumper)
    return dumper
