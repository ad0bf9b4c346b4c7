"""DuckDB helpers: the one in-memory connection factory, statements, and line-level reading of badly quoted files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC without a progress bar; features add their own macros."""
    con = duckdb.connect(":memory:")
    run(con, "SET TimeZone = 'UTC'")
    run(con, "SET enable_progress_bar = false")
    return con


def run(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> list[tuple]:
    """Execute a statement to completion and return its rows."""
    return con.execute(sql, params or {}).fetchall()


def literal(value: object) -> str:
    """A SQL string literal (for statements that cannot take parameters, like CREATE VIEW)."""
    return "'" + str(value).replace("'", "''") + "'"


def scalar(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> Any:
    """The first value of the first row."""
    return run(con, sql, params)[0][0]


def read_lines(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    encoding: str = "utf-8",
    header: bool = False,
) -> None:
    """Temp table `table(line)`: every line of a (possibly gzipped) text file, after the header if any.

    Quoting is not interpreted, so a broken quote cannot swallow the rows after it; callers split
    each line themselves and count what does not fit. A blank line reads as NULL.
    """
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT line FROM read_csv($path, "
        "columns={'line': 'VARCHAR'}, delim='\x1f', quote='', escape='', header=$header, "
        "auto_detect=false, encoding=$encoding, strict_mode=false)",
        {"path": str(path), "encoding": encoding, "header": header},
    )
