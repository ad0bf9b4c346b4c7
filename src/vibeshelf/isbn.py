"""ISBN-10 identity: one rule, as Python and as DuckDB macros, shared by the catalog and ratings."""

from __future__ import annotations

import re

import duckdb

# Separators people type inside ISBNs, and Book-Crossing's stray \" escapes, are dropped.
_SEPARATORS = re.compile(r"""[\s\-."'\\]""")
_ISBN10_WEIGHTS = tuple(range(10, 0, -1))
_ISBN13_WEIGHTS = (1, 3) * 6 + (1,)


def _digit(ch: str) -> int:
    return 10 if ch == "X" else ord(ch) - 48


def _weighted(text: str, weights: tuple[int, ...]) -> int:
    return sum(w * _digit(ch) for w, ch in zip(weights, text, strict=False))


def _check_char(core: str) -> str:
    value = (11 - _weighted(core, _ISBN10_WEIGHTS[:9]) % 11) % 11
    return "X" if value == 10 else str(value)


def clean(raw: str | None) -> str:
    """Upper-cased, separators dropped."""
    return _SEPARATORS.sub("", (raw or "").strip()).upper()


def isbn10(raw: str | None) -> str | None:
    """The valid ISBN-10 that `raw` names, else None.

    Accepted: a valid ISBN-10 (checksum), a 7-9 digit ISBN-10 that lost its leading zeros, or a
    valid 978-prefixed ISBN-13, converted to its ISBN-10.
    """
    text = clean(raw)
    if re.fullmatch(r"\d{7,9}", text):
        text = text.zfill(10)
    if re.fullmatch(r"\d{9}[\dX]", text):
        return text if _weighted(text, _ISBN10_WEIGHTS) % 11 == 0 else None
    if re.fullmatch(r"978\d{10}", text) and _weighted(text, _ISBN13_WEIGHTS) % 10 == 0:
        return text[3:12] + _check_char(text[3:12])
    return None


def isbn_key(raw: str | None) -> str | None:
    """A join key between files that share one ISBN column's damage: cleaned, zeros restored.

    Unlike `isbn10` it keeps ISBNs whose checksum fails, so two copies of the same wrong ISBN
    still match; use it to join, never to name a book.
    """
    text = clean(raw)
    if re.fullmatch(r"\d{6,9}[\dX]", text):
        return text.zfill(10)
    return isbn10(text)


def _sql_weighted(var: str, weights: tuple[int, ...]) -> str:
    return " + ".join(f"{w} * isbn_digit({var}[{i}])" for i, w in enumerate(weights, 1))


# The same rules in SQL, for bulk ingest (a Python function per row would be far slower).
SQL_MACROS = f"""
CREATE OR REPLACE MACRO isbn_clean(raw) AS upper(regexp_replace(trim(raw), '[\\s\\-\\."''\\\\]', '', 'g'));
CREATE OR REPLACE MACRO isbn_digit(ch) AS CASE WHEN ch = 'X' THEN 10 ELSE ord(ch) - 48 END;
CREATE OR REPLACE MACRO isbn10_valid(s) AS ({_sql_weighted("s", _ISBN10_WEIGHTS)}) % 11 = 0;
CREATE OR REPLACE MACRO isbn13_valid(s) AS ({_sql_weighted("s", _ISBN13_WEIGHTS)}) % 10 = 0;
CREATE OR REPLACE MACRO isbn10_check_value(core) AS
    (11 - ({_sql_weighted("core", _ISBN10_WEIGHTS[:9])}) % 11) % 11;
CREATE OR REPLACE MACRO isbn10_check(core) AS
    CASE isbn10_check_value(core) WHEN 10 THEN 'X' ELSE isbn10_check_value(core)::VARCHAR END;
CREATE OR REPLACE MACRO isbn10_of(c) AS CASE
    WHEN regexp_full_match(c, '[0-9]{{9}}[0-9X]') THEN CASE WHEN isbn10_valid(c) THEN c END
    WHEN regexp_full_match(c, '[0-9]{{7,9}}') THEN CASE WHEN isbn10_valid(lpad(c, 10, '0')) THEN lpad(c, 10, '0') END
    WHEN regexp_full_match(c, '978[0-9]{{10}}') THEN
        CASE WHEN isbn13_valid(c) THEN substr(c, 4, 9) || isbn10_check(substr(c, 4, 9)) END
END;
CREATE OR REPLACE MACRO isbn10(raw) AS isbn10_of(isbn_clean(raw));
CREATE OR REPLACE MACRO isbn_key(raw) AS CASE
    WHEN regexp_full_match(isbn_clean(raw), '[0-9]{{6,9}}[0-9X]') THEN lpad(isbn_clean(raw), 10, '0')
    ELSE isbn10(raw)
END;
"""


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Define the ISBN macros (`isbn10`, `isbn_key`, ...) in a DuckDB connection."""
    con.execute(SQL_MACROS)
