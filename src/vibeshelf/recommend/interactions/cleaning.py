"""Cleaning staged interactions: rating scale, drop reasons counted, repeated pairs dropped.

Every reader stages raw text columns (user_raw, item_raw, rating_raw, event_raw, ts_raw, fault,
raw) as the view `staged`; `clean` turns them into SCHEMA rows in the table `kept` and names the
reason each bad row is dropped. A bad row is counted, never fatal.

Ratings: `strength` = rating / rating_max for a rating > 0; a rating of 0 (Book-Crossing's and
Goodreads' "implicit": read or shelved, not rated) or no rating at all keeps strength null, and
training decides what an implicit row is worth (see recommend.confidence).
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from vibeshelf.recommend.interactions.report import InteractionsReport
from vibeshelf.recommend.storage.base import SCHEMA
from vibeshelf.storage.duck import run, scalar

log = logging.getLogger(__name__)

RATING_SCALES = (1.0, 5.0, 10.0, 100.0)
EXAMPLES_PER_REASON = 3


def infer_scale(con: duckdb.DuckDBPyConnection) -> float:
    """The smallest of RATING_SCALES that holds every staged rating."""
    top = scalar(con, "SELECT max(try_cast(trim(rating_raw) AS DOUBLE)) FROM staged")
    return next((s for s in RATING_SCALES if top is None or top <= s), RATING_SCALES[-1])


def clean(
    con: duckdb.DuckDBPyConnection, path: Path, source: str, items: str, rating_max: float
) -> InteractionsReport:
    """staged -> `checked` (every row with its drop reason or none) -> `kept` (deduplicated)."""
    item = "isbn10(item_raw)" if items == "isbn" else "nullif(trim(item_raw), '')"
    missing_item = "invalid_isbn" if items == "isbn" else "missing_item"
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT *, CASE
                WHEN fault IS NOT NULL THEN fault
                WHEN user_id IS NULL THEN 'missing_user'
                WHEN item_id IS NULL THEN '{missing_item}'
                WHEN rating_raw IS NOT NULL AND trim(rating_raw) <> '' AND rating IS NULL THEN 'bad_rating'
                WHEN rating < 0 OR rating > $max THEN 'bad_rating'
                WHEN ts_raw IS NOT NULL AND trim(ts_raw) <> '' AND ts IS NULL THEN 'bad_timestamp'
            END AS reason
        FROM (
            SELECT *, nullif(trim(user_raw), '') AS user_id, {item} AS item_id,
                   try_cast(nullif(trim(rating_raw), '') AS DOUBLE) AS rating,
                   nullif(trim(event_raw), '') AS event_name,
                   CASE WHEN regexp_full_match(trim(ts_raw), '[0-9]+(\\.[0-9]+)?')
                        THEN try_cast(to_timestamp(trim(ts_raw)::DOUBLE
                             / CASE WHEN trim(ts_raw)::DOUBLE > 1e11 THEN 1000 ELSE 1 END) AS TIMESTAMP)
                        ELSE try_cast(try_cast(trim(ts_raw) AS TIMESTAMPTZ) AS TIMESTAMP) END AS ts
            FROM staged
        )
        """,
        {"max": rating_max},
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT user_id, item_id, rating,
               CASE WHEN rating > 0 THEN rating / $max END AS strength,
               coalesce(event_name, CASE WHEN rating > 0 THEN 'rating' ELSE 'implicit' END) AS event,
               ts,
               row_number() OVER (PARTITION BY user_id, item_id
                                  ORDER BY rating DESC NULLS LAST, ts DESC NULLS LAST, event_name) AS copy
        FROM checked WHERE reason IS NULL
        """,
        {"max": rating_max},
    )
    keep(con, "SELECT * EXCLUDE (copy) FROM ranked WHERE copy = 1")
    report = InteractionsReport(source=source, path=str(path))
    for reason, n in run(
        con,
        "SELECT reason, count(*) FROM checked WHERE reason IS NOT NULL AND reason <> 'blank_line' GROUP BY 1",
    ):
        report.dropped[reason] = n
    duplicates = scalar(con, "SELECT count(*) FROM ranked WHERE copy > 1")
    if duplicates:
        report.dropped["duplicate"] = duplicates
    if _has_table(con, "csv_rejects"):
        rejects = scalar(con, "SELECT count(*) FROM csv_rejects")
        if rejects:
            report.dropped["unparseable_line"] = rejects
    report.rows_read = scalar(
        con, "SELECT count(*) FROM checked WHERE reason IS DISTINCT FROM 'blank_line'"
    ) + report.dropped.get("unparseable_line", 0)
    report.examples = {
        reason: [r[:120] for r in rows if r]
        for reason, rows in run(
            con,
            f"SELECT reason, list(raw)[:{EXAMPLES_PER_REASON}] FROM checked "
            "WHERE reason IS NOT NULL AND reason <> 'blank_line' GROUP BY 1",
        )
    }
    count_kept(con, report)
    log.debug(report.summary())  # the CLI prints it
    return report


def keep(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Table `kept` := the SCHEMA columns of `query` (which may read the old `kept`)."""
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE kept_next AS SELECT {', '.join(SCHEMA.names)} FROM ({query}) "
        "ORDER BY user_id, item_id",
    )
    run(con, "DROP TABLE IF EXISTS kept")
    run(con, "ALTER TABLE kept_next RENAME TO kept")


def count_kept(con: duckdb.DuckDBPyConnection, report: InteractionsReport) -> None:
    """The report's rows kept, users and items, from table `kept`."""
    report.rows_kept, report.users, report.items = run(
        con, "SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM kept"
    )[0]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    query = "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name"
    return bool(scalar(con, query, {"name": name}))
