"""The recommender's DuckDB session: the shared connection with the ISBN and text macros."""

from __future__ import annotations

import duckdb

from vibeshelf import isbn
from vibeshelf.storage import duck

_MACROS = """
CREATE OR REPLACE MACRO clean_text(s) AS nullif(trim(
    replace(replace(replace(replace(replace(s, '\\"', '"'), '&quot;', '"'), '&lt;', '<'), '&gt;', '>'),
            '&amp;', '&')), '');
"""


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the ISBN and text macros defined."""
    con = duck.connect()
    isbn.register(con)
    duck.run(con, _MACROS)
    return con
