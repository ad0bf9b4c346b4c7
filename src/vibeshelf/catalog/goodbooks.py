"""Ingest goodbooks-10k: books, user shelves, descriptions and genres joined with DuckDB."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from vibeshelf.catalog.schema import CatalogError, read_error
from vibeshelf.catalog.table import IngestReport, connect, sql_string, write_books

log = logging.getLogger(__name__)

BOOKS_CSV = Path("goodbooks-10k/books.csv")
SHELVES_CSV = Path("goodbooks-shelves/book_genres.csv")
DETAILS_CSV = Path("book-descriptions/book_details.csv")
GENRES_CSV = Path("book-descriptions/genres.csv")
ISBN13_TXT = Path("book-descriptions/descriptions_isbn13.txt")
SUMMARIES_CSV = Path("book-descriptions/llm_summaries_goodbooks.csv.gz")
GOODREADS_URL = "https://www.goodreads.com/book/show/"

# The columns used from each CSV file; all read as text, then parsed (and counted) in SQL.
CSV_COLUMNS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "books_csv": (BOOKS_CSV, (
        "book_id", "goodreads_book_id", "work_id", "isbn", "authors", "original_publication_year",
        "title", "language_code", "average_rating", "ratings_count", "image_url",
    )),
    "shelves_csv": (SHELVES_CSV, ("book_id", "genres")),
    "details_csv": (DETAILS_CSV, ("isbn_10", "description")),
    "genres_csv": (GENRES_CSV, ("isbn_10", "genre")),
    "summaries_csv": (SUMMARIES_CSV, ("book_id", "description")),
}

# Descriptions: book_details.csv first (edition-matched goodbooks-10k-extended blurbs), then the
# ISBN-13 file, then (only when asked for) a language model's summary, marked "generated". Shelves: the goodbooks user shelves, then genres.csv genres (cleaned later).
STAGE_SQL = f"""
CREATE TEMP TABLE staged AS
WITH books AS (SELECT *, isbn_key(isbn) AS isbn_key FROM books_csv),
shelves AS (
    SELECT clean_text(book_id) AS book_id, arg_min(genres, ord) AS genres
    FROM shelves_csv GROUP BY 1),
details AS (
    SELECT isbn_key(isbn_10) AS isbn_key,
           arg_min(clean_description(description), ord) AS description
    FROM details_csv WHERE clean_description(description) IS NOT NULL GROUP BY 1),
isbn13 AS (
    SELECT isbn10 AS isbn_key, arg_min(clean_description(description), ord) AS description
    FROM isbn13_descriptions
    WHERE isbn10 IS NOT NULL AND clean_description(description) IS NOT NULL GROUP BY 1),
genres AS (
    SELECT isbn_key(isbn_10) AS isbn_key, list(genre ORDER BY ord) AS genres
    FROM genres_csv GROUP BY 1),
summaries AS (
    SELECT clean_text(book_id) AS book_id,
           arg_min(clean_description(unquote(description)), ord) AS description
    FROM summaries_csv WHERE clean_description(unquote(description)) IS NOT NULL GROUP BY 1)
SELECT
    b.ord, b.book_id, b.work_id, b.title,
    string_split(b.authors, ',') AS authors,
    b.original_publication_year AS year,
    b.language_code AS language,
    b.average_rating,
    b.ratings_count,
    list_concat(coalesce(string_split(s.genres, ','), []::VARCHAR[]),
                coalesce(g.genres, []::VARCHAR[])) AS shelves,
    coalesce(d.description, i.description, m.description) AS description,
    CASE WHEN d.description IS NULL AND i.description IS NULL AND m.description IS NOT NULL
         THEN 'generated' END AS description_source,
    {sql_string(GOODREADS_URL)} || clean_text(b.goodreads_book_id) AS url,
    b.image_url AS cover_url,
    b.isbn AS isbn10,
    d.description IS NOT NULL AS described_by_details,
    d.description IS NULL AND i.description IS NOT NULL AS described_by_isbn13,
    g.genres IS NOT NULL AS has_genres,
    d.description IS NULL AND i.description IS NULL AND m.description IS NOT NULL AS generated
FROM books b
LEFT JOIN shelves s ON s.book_id = clean_text(b.book_id)
LEFT JOIN details d ON d.isbn_key = b.isbn_key
LEFT JOIN isbn13 i ON i.isbn_key = b.isbn_key
LEFT JOIN genres g ON g.isbn_key = b.isbn_key
LEFT JOIN summaries m ON m.book_id = clean_text(b.book_id)
"""

STATS_SQL = """
SELECT count(*) FILTER (WHERE described_by_details OR described_by_isbn13 OR generated),
       count(*) FILTER (WHERE described_by_details),
       count(*) FILTER (WHERE described_by_isbn13),
       count(*) FILTER (WHERE has_genres),
       count(*) FILTER (WHERE generated)
FROM staged
"""
STATS_KEYS = (
    "books_with_description", "descriptions_from_book_details", "descriptions_from_isbn13",
    "books_with_genres_csv", "descriptions_generated",
)


def ingest_goodbooks(
    source_dir: Path, out_path: Path, *, generated_descriptions: bool = False
) -> IngestReport:
    """Join goodbooks-10k, its shelves and the description files into the books table; with
    `generated_descriptions`, a book without a blurb gets its generated summary."""
    if not (source_dir / BOOKS_CSV).is_file():
        raise CatalogError(f"no goodbooks catalog at {source_dir / BOOKS_CSV}")
    with connect() as con:
        for table, (relative, columns) in CSV_COLUMNS.items():
            wanted = generated_descriptions or table != "summaries_csv"
            _load_csv(con, table, source_dir / relative if wanted else None, columns)
        bad = _malformed_rows(con) | _load_isbn13_descriptions(con, source_dir / ISBN13_TXT)
        con.execute(STAGE_SQL)
        stats = dict(zip(STATS_KEYS, con.execute(STATS_SQL).fetchone() or (), strict=True))
        return write_books(con, "staged", out_path, str(source_dir), bad, stats)


def _load_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path | None, columns: tuple[str, ...]
) -> None:
    """Table `table` with `columns` (as text) and `ord`; empty if no path (not wanted), and
    with a warning if no file there."""
    if path is None or not path.is_file():
        if path is not None:
            log.warning("no %s: continuing without it", path)
        typed = ", ".join(f"{c} VARCHAR" for c in columns)
        con.execute(f"CREATE TEMP TABLE {table} ({typed}, ord BIGINT)")
        return
    try:
        con.execute(f"""
            CREATE TEMP TABLE {table} AS
            SELECT *, row_number() OVER () AS ord
            FROM read_csv({sql_string(path)}, header = true, delim = ',', quote = '"',
                          escape = '"', all_varchar = true, store_rejects = true)""")
    except duckdb.Error as exc:
        raise read_error(path, exc) from exc
    found = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    missing = [c for c in columns if c not in found]
    if missing:
        raise CatalogError(f"{path} lacks column(s): {', '.join(missing)}")


def _malformed_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """CSV lines DuckDB rejected (wrong field count, bad quoting), by file."""
    rows = con.execute("""
        SELECT s.file_path, count(DISTINCT (e.scan_id, e.line))
        FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) GROUP BY 1
    """).fetchall()
    return {_reason(Path(path), "malformed_row"): n for path, n in rows}


def _reason(path: Path, reason: str) -> str:
    """Rows of books.csv are book rows; other files' problems are named after the file."""
    return reason if path.name == BOOKS_CSV.name else f"{path.name}:{reason}"


def _load_isbn13_descriptions(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Table isbn13_descriptions(ord, isbn10, description) from "ISBN-13 description" lines.

    About a sixth of the lines are wrapped in CSV quotes ("..."" ...""..."); those are unwrapped.
    """
    if not path.is_file():
        log.warning("no %s: continuing without it", path)
        con.execute("CREATE TEMP TABLE isbn13_descriptions "
                    "(ord BIGINT, isbn13 VARCHAR, isbn10 VARCHAR, description VARCHAR)")
        return {}
    try:
        con.execute(f"""
            CREATE TEMP TABLE isbn13_lines AS
            SELECT ord, CASE WHEN line LIKE '"%"' AND length(line) > 1
                             THEN replace(substr(line, 2, length(line) - 2), '""', '"')
                             ELSE line END AS line
            FROM (SELECT generate_subscripts(lines, 1) AS ord, rtrim(unnest(lines), chr(13)) AS line
                  FROM (SELECT string_split(content, chr(10)) AS lines
                        FROM read_text({sql_string(path)})))
            WHERE trim(line) <> ''""")
    except duckdb.Error as exc:
        raise read_error(path, exc) from exc
    con.execute(r"""
        CREATE TEMP TABLE isbn13_descriptions AS
        SELECT ord, isbn13, isbn10(isbn13) AS isbn10, description
        FROM (SELECT ord, nullif(regexp_extract(line, '^\s*(\d{13})\s', 1), '') AS isbn13,
                     regexp_extract(line, '^\s*\d{13}\s+(.*)$', 1) AS description
              FROM isbn13_lines)""")
    unparseable, unconvertible = con.execute("""
        SELECT count(*) FILTER (WHERE isbn13 IS NULL),
               count(*) FILTER (WHERE isbn13 IS NOT NULL AND isbn10 IS NULL)
        FROM isbn13_descriptions""").fetchone() or (0, 0)
    return {
        _reason(path, "unparseable_line"): unparseable,
        _reason(path, "not_isbn10_convertible"): unconvertible,
    }
