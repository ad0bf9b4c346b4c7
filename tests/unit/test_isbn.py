"""The one ISBN rule: its cases, and the Python and DuckDB forms agreeing on them."""

from __future__ import annotations

import random

import duckdb
import pytest

from vibeshelf import isbn

CASES: dict[str | None, str | None] = {
    "034545104X": "034545104X",
    " 034545104x ": "034545104X",
    "0-345-45104-X": "034545104X",
    "0-14-028009-X": "014028009X",
    '\\"0155061224\\"': "0155061224",
    "155061224": "0155061224",
    "439023483": "0439023483",
    "9780345451040": "034545104X",
    "9780439655484": "043965548X",
    "9780345451041": None,  # ISBN-13 checksum fails
    "9791234567896": None,  # 979 ISBN-13s have no ISBN-10
    "0812971060": None,  # ISBN-10 checksum fails
    "812971060": None,  # ... also once its leading zero is restored
    "B00009EF82": None,
    "1234567890": None,
    "12345": None,
    "12": None,
    "": None,
    None: None,
}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    isbn.register(con)
    return con


@pytest.mark.parametrize(("raw", "expected"), list(CASES.items()))
def test_isbn10_rule(raw: str | None, expected: str | None, con: duckdb.DuckDBPyConnection) -> None:
    assert isbn.isbn10(raw) == expected
    assert con.execute("SELECT isbn10($raw)", {"raw": raw}).fetchone() == (expected,)


def test_every_isbn10_it_returns_passes_the_checksum() -> None:
    rng = random.Random(7)
    for _ in range(2_000):
        raw = "".join(rng.choice("0123456789") for _ in range(rng.choice([9, 10, 13])))
        found = isbn.isbn10(("978" + raw)[:13] if len(raw) == 13 else raw)
        if found is not None:
            assert sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(found)) % 11 == 0


def test_python_and_sql_agree_on_random_strings(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(11)
    alphabet = "0123456789Xx- ."
    raws = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(3_000)]
    raws += ["978" + "".join(rng.choice("0123456789") for _ in range(10)) for _ in range(3_000)]
    rows = con.execute(
        "SELECT raw, isbn10(raw), isbn_key(raw) FROM (SELECT unnest($raws) AS raw)", {"raws": raws}
    ).fetchall()
    for raw, sql_isbn10, sql_key in rows:
        assert (isbn.isbn10(raw), isbn.isbn_key(raw)) == (sql_isbn10, sql_key), raw


def test_isbn_key_keeps_a_failing_checksum_for_joins() -> None:
    assert isbn.isbn_key("812971060") == "0812971060"
    assert isbn.isbn_key("9780439655484") == "043965548X"
    assert isbn.isbn_key("B00009EF82") is None
