"""Vectors in PostgreSQL with pgvector: one table per build, renamed into place in one transaction."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from vibeshelf.config.core import VectorDtype
from vibeshelf.index import storelib
from vibeshelf.index.base import Hit, IndexManifest, Records, VectorStore
from vibeshelf.index.filters import Filter
from vibeshelf.index.hnsw import HnswParams
from vibeshelf.index.pgvector_sql import COLUMN_TYPES, LIST_TAGS, copy_rows, prepare, sql_where
from vibeshelf.storage.errors import StoreError
from vibeshelf.storage.urls import redacted

DEFAULT_TABLE = "vibeshelf_vectors"
COLUMNS = (
    "id", "embedding", "year", "average_rating", "ratings_count", "language", "shelves", "genres"
)
COPY_TYPES = ("text", "{vector}", "int4", "float4", "int4", "text", "text[]", "text[]")
MAX_TABLE_CHARS = 30  # leaves room for _<build id> within PostgreSQL's 63-character names


class PgVectorStore(VectorStore):
    """`postgresql://user@host:port/db?table=NAME`: rows in NAME, an HNSW index on `embedding`.

    A rebuild COPYs into NAME_<build>, indexes it, then renames it to NAME in one transaction
    (readers see the old table or the new one, never a half-loaded one). The served manifest is
    the table's comment, so it always travels with its rows. `vector_dtype` float16 makes the
    column a halfvec with a halfvec_cosine_ops index.
    """

    def __init__(
        self, url: str, params: HnswParams | None = None, vector_dtype: VectorDtype = "float32"
    ) -> None:
        self.url = url
        self.vector_dtype = vector_dtype
        self._dsn, self.table = storelib.pop_url_option(url, "table", DEFAULT_TABLE)
        if not self.table.isidentifier() or len(self.table) > MAX_TABLE_CHARS:
            raise StoreError(
                f"table name {self.table!r} in {self._where} is not a plain identifier"
            )
        self.params = params or HnswParams()
        self._local = threading.local()
        self._connections: list[psycopg.Connection] = []
        self._write_lock = threading.Lock()
        with self._connection():  # fail early, naming the URL, when the database is unreachable
            pass

    # ---- reading -------------------------------------------------------------------------
    @property
    def manifest(self) -> IndexManifest:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT obj_description(to_regclass(%s), 'pg_class')", (self.table,)
            ).fetchone()
        if row is None or row[0] is None:
            raise StoreError(f"no index at {self._where}: build one with `vibeshelf index`")
        return IndexManifest.from_dict(json.loads(row[0]))

    def count(self) -> int:
        with self._connection() as conn:
            if not self._exists(conn):
                return 0
            return int(
                conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._ident)).fetchone()[0]
            )

    def knn(self, vector: np.ndarray, k: int, filters: Filter | None = None) -> list[Hit]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        storelib.check_dim("query", query.shape[0], self.manifest)
        if k <= 0:
            return []
        where, args = sql_where(filters or Filter())
        statement = sql.SQL(
            "SELECT id, 1 - (embedding <=> %s) FROM {} {} ORDER BY embedding <=> %s LIMIT %s"
        ).format(self._ident, where)
        with self._connection() as conn:
            ef = max(k, self.params.ef_search)
            if getattr(self._local, "ef_search", None) != ef:  # one SET per session and beam
                conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(ef)))
                self._local.ef_search = ef
            rows = conn.execute(statement, (query, *args, query, k)).fetchall()
        return [Hit(rid, float(sim)) for rid, sim in rows]

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> list[float | None]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        storelib.check_dim("query", query.shape[0], self.manifest)
        statement = sql.SQL("SELECT id, 1 - (embedding <=> %s) FROM {} WHERE id = ANY(%s)").format(
            self._ident
        )
        with self._connection() as conn:
            found = dict(conn.execute(statement, (query, list(ids))).fetchall())
        return [None if rid not in found else float(found[rid]) for rid in ids]

    def health(self) -> dict[str, Any]:
        status = storelib.down("pgvector", self._where)
        try:
            status["count"] = self.count()
            status["build_id"] = self.manifest.build_id if status["count"] else None
            status["ok"] = status["count"] > 0
        except StoreError as exc:
            status["error"] = str(exc)
        return status

    # ---- writing -------------------------------------------------------------------------
    def rebuild(self, records: Records, manifest: IndexManifest) -> None:
        with self._write_lock, self._connection() as conn:
            started = time.perf_counter()
            build_id = storelib.new_build_id()
            dim = records.vectors.shape[1]
            staging = sql.Identifier(f"{self.table}_{build_id.replace('-', '_').lower()}")
            try:
                self._create_table(conn, staging, dim)
                with conn.transaction():
                    self._copy(conn, staging, records)
                self._create_indexes(conn, staging)
                manifest = storelib.stamp(
                    replace(manifest, dim=dim, count=len(records), backend="pgvector"),
                    build_id,
                    started,
                    self.params.graph() | {"vector_dtype": self.vector_dtype},
                )
                self._comment(conn, staging, manifest)
                with conn.transaction():
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._ident))
                    conn.execute(
                        sql.SQL("ALTER TABLE {} RENAME TO {}").format(staging, self._ident)
                    )
            except BaseException:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging))
                raise
        storelib.log_build(manifest)

    def upsert(self, records: Records) -> None:
        with self._write_lock:
            manifest = self.manifest
            storelib.check_dim("records", records.vectors.shape[1], manifest)
            statement = sql.SQL(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}"
            ).format(
                self._ident,
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
                sql.SQL(", ").join(
                    sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in COLUMNS[1:]
                ),
            )
            with self._connection() as conn, conn.transaction():
                conn.cursor().executemany(statement, list(copy_rows(records)))
                self._recount(conn, manifest)

    def delete(self, ids: Sequence[str]) -> int:
        with self._write_lock:
            manifest = self.manifest
            with self._connection() as conn, conn.transaction():
                cursor = conn.execute(
                    sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(self._ident), (list(ids),)
                )
                self._recount(conn, manifest)
            return cursor.rowcount

    def drop(self) -> None:
        with self._write_lock, self._connection() as conn, conn.transaction():
            builds = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND (tablename = %s OR tablename LIKE %s)",
                (self.table, self.table.replace("_", r"\_") + r"\_2%"),
            ).fetchall()
            for (name,) in builds:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))

    @property
    def _column_type(self) -> str:
        return COLUMN_TYPES[self.vector_dtype][0]

    def _create_table(self, conn: psycopg.Connection, table: sql.Identifier, dim: int) -> None:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id text PRIMARY KEY, embedding {}({}) NOT NULL, year int, "
                "average_rating real, ratings_count int, language text, "
                "shelves text[] NOT NULL DEFAULT '{{}}', genres text[] NOT NULL DEFAULT '{{}}')"
            ).format(table, sql.SQL(self._column_type), sql.Literal(dim))
        )

    def _copy(self, conn: psycopg.Connection, table: sql.Identifier, records: Records) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            table, sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        )
        with conn.cursor().copy(statement) as copy:
            copy.set_types([t.format(vector=self._column_type) for t in COPY_TYPES])
            for row in copy_rows(records):
                copy.write_row(row)

    def _create_indexes(self, conn: psycopg.Connection, table: sql.Identifier) -> None:
        conn.execute(
            sql.SQL(
                "CREATE INDEX ON {} USING hnsw (embedding {}) WITH (m = {}, ef_construction = {})"
            ).format(
                table,
                sql.SQL(f"{self._column_type}_cosine_ops"),
                sql.Literal(self.params.m),
                sql.Literal(self.params.ef_construction),
            )
        )
        for column in LIST_TAGS:
            conn.execute(sql.SQL("CREATE INDEX ON {} USING gin ({})").format(
                table, sql.Identifier(column)))
        conn.execute(sql.SQL("ANALYZE {}").format(table))

    def _comment(
        self, conn: psycopg.Connection, table: sql.Identifier, manifest: IndexManifest
    ) -> None:
        conn.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                table, sql.Literal(json.dumps(manifest.to_dict()))
            )
        )

    def _recount(self, conn: psycopg.Connection, manifest: IndexManifest) -> None:
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._ident)).fetchone()[0]
        self._comment(conn, self._ident, replace(manifest, count=int(count)))

    def _exists(self, conn: psycopg.Connection) -> bool:
        return conn.execute("SELECT to_regclass(%s)", (self.table,)).fetchone()[0] is not None

    @property
    def _ident(self) -> sql.Identifier:
        return sql.Identifier(self.table)

    @property
    def _where(self) -> str:
        return redacted(self.url)

    def close(self) -> None:
        """Close every thread's connection."""
        for conn in self._connections:
            conn.close()
        self._connections.clear()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """This thread's connection (opened on first use), with database errors as StoreError."""
        conn: psycopg.Connection | None = getattr(self._local, "conn", None)
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
                self._local.conn = conn
                self._local.ef_search = None
                self._connections.append(conn)
                prepare(conn)
            yield conn
        except psycopg.Error as exc:
            raise StoreError(f"vector store {self._where}: {exc}") from exc
