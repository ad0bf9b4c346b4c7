"""DuckDB helpers: a connection with ISBN macros, and line-level reading of badly quoted files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def _weighted_sum(var: str, weights: list[int]) -> str:
    """SQL for sum(weight_i * digit_i) over the first len(weights) characters of `var`."""
    return " + ".join(f"{w} * isbn_digit({var}[{i}])" for i, w in enumerate(weights, 1))


# Separators people type inside ISBNs (and Book-Crossing's stray \" escapes) are dropped; the
# result must be a valid ISBN-10 (checksum), a 7-9 digit ISBN-10 that lost its leading zeros,
# or a valid 978-prefixed ISBN-13, which is converted to its ISBN-10. Anything else is NULL.
_MACROS = f"""
CREATE OR REPLACE MACRO isbn_clean(raw) AS upper(regexp_replace(trim(raw), '[\\s\\-\\."''\\\\]', '', 'g'));
CREATE OR REPLACE MACRO isbn_digit(ch) AS CASE WHEN ch = 'X' THEN 10 ELSE ord(ch) - 48 END;
CREATE OR REPLACE MACRO isbn10_valid(s) AS ({_weighted_sum("s", list(range(10, 0, -1)))}) % 11 = 0;
CREATE OR REPLACE MACRO isbn13_valid(s) AS ({_weighted_sum("s", [1, 3] * 6 + [1])}) % 10 = 0;
CREATE OR REPLACE MACRO isbn10_check_value(core) AS
    (11 - ({_weighted_sum("core", list(range(10, 1, -1)))}) % 11) % 11;
CREATE OR REPLACE MACRO isbn10_check(core) AS
    CASE isbn10_check_value(core) WHEN 10 THEN 'X' ELSE isbn10_check_value(core)::VARCHAR END;
CREATE OR REPLACE MACRO isbn10_of(c) AS CASE
    WHEN regexp_full_match(c, '[0-9]{{9}}[0-9X]') THEN CASE WHEN isbn10_valid(c) THEN c END
    WHEN regexp_full_match(c, '[0-9]{{7,9}}') THEN CASE WHEN isbn10_valid(lpad(c, 10, '0')) THEN lpad(c, 10, '0') END
    WHEN regexp_full_match(c, '978[0-9]{{10}}') THEN
        CASE WHEN isbn13_valid(c) THEN substr(c, 4, 9) || isbn10_check(substr(c, 4, 9)) END
END;
CREATE OR REPLACE MACRO isbn10(raw) AS isbn10_of(isbn_clean(raw));
CREATE OR REPLACE MACRO clean_text(s) AS nullif(trim(
    replace(replace(replace(replace(replace(s, '\\"', '"'), '&quot;', '"'), '&lt;', '<'), '&gt;', '>'),
            '&amp;', '&')), '');
"""


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the ISBN macros defined."""
    con = duckdb.connect()
    run(con, "SET TimeZone = 'UTC'")
    run(con, "SET enable_progress_bar = false")
    run(con, _MACROS)
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
