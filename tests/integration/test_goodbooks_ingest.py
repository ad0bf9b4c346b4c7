"""The real goodbooks-10k ingest (from ../shared/data) and the committed sample built from it."""

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SHARED_DATA
from vibeshelf import isbn
from vibeshelf.catalog.genres import genre_map
from vibeshelf.catalog.goodbooks import ingest_goodbooks
from vibeshelf.catalog.sample import SAMPLE_PATH, build_sample, install_sample
from vibeshelf.catalog.schema import (
    BOOKS_SCHEMA,
    SCHEMA_VERSION,
    CatalogError,
    manifest_path,
    read_books,
)
from vibeshelf.catalog.shelves import is_noise, normalize_shelf
from vibeshelf.catalog.table import IngestReport
from vibeshelf.storage.files import file_sha256

MAX_SAMPLE_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def books(ingested: IngestReport) -> dict[str, dict[str, object]]:
    return {row["book_id"]: row for row in read_books(ingested.out_path).to_pylist()}


def described_schema(path: Path) -> tuple[tuple[str, str], ...]:
    with duckdb.connect() as con:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    return tuple((name, kind) for name, kind, *_ in rows)


def test_every_book_once(ingested: IngestReport, books: dict[str, dict[str, object]]) -> None:
    assert ingested.rows == len(books) == 10_000
    assert all(book_id and row["title"] for book_id, row in books.items())


def test_no_noise_shelves_and_every_book_has_shelves(books: dict[str, dict[str, object]]) -> None:
    shelves = [s for row in books.values() for s in row["shelves"]]  # type: ignore[attr-defined]
    assert not [s for s in shelves if is_noise(s)]
    assert all(row["shelves"] for row in books.values())


def test_every_shelf_in_the_data_is_mapped_and_books_get_ranked_genres(
    books: dict[str, dict[str, object]],
) -> None:
    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader((SHARED_DATA / name).read_text(encoding="utf-8").splitlines()))

    raw = {s for row in rows("goodbooks-shelves/book_genres.csv") for s in row["genres"].split(",")}
    raw |= {row["genre"] for row in rows("book-descriptions/genres.csv")}
    assert len(raw) == 617 and sorted({normalize_shelf(s) for s in raw} - set(genre_map().shelves)) == []
    potter = books["2"]["genres"]
    assert isinstance(potter, list) and potter[0] == "children's" and potter[-1] == "fiction"
    assert {"wizards", "fantasy", "middle grade"} <= set(potter) and "science fiction" not in potter
    assert sum(bool(row["genres"]) for row in books.values()) == 10_000


def test_descriptions_linked_from_both_files(
    ingested: IngestReport, books: dict[str, dict[str, object]]
) -> None:
    described = sum(1 for row in books.values() if row["description"])
    assert described >= 3_000
    assert ingested.stats["descriptions_from_book_details"] > 2_500
    assert ingested.stats["descriptions_from_isbn13"] > 300


def test_isbn13_file_links_through_the_converted_isbn10(
    books: dict[str, dict[str, object]],
) -> None:
    # Fight Club is only in descriptions_isbn13.txt, as 9780393327342 (check digit 2 -> 5).
    assert isbn.isbn10("9780393327342") == "0393327345"
    fight_club = books["196"]
    assert fight_club["isbn10"] == "0393327345"
    assert str(fight_club["description"]).startswith("In a confusing world poised on the brink")


def test_fields_are_cleaned(books: dict[str, dict[str, object]]) -> None:
    hunger = books["1"]
    assert hunger["isbn10"] == "0439023483"  # "439023483" in books.csv
    assert hunger["url"] == "https://www.goodreads.com/book/show/2767052"
    assert str(hunger["description"]).startswith("WINNING MEANS FAME AND FORTUNE. LOSING MEANS")
    assert books["2"]["authors"] == ["J.K. Rowling", "Mary GrandPré"]
    languages = {row["language"] for row in books.values()}
    assert "eng" in languages and not {"en-US", "en-GB", "en-CA", "en-us"} & languages
    assert min(row["year"] for row in books.values() if row["year"] is not None) < 0
    covers = [row["cover_url"] for row in books.values()]
    assert not [c for c in covers if c and "nophoto" in c] and None in covers
    spaced = [r for r in books.values() if "  " in f"{r['title']} {r['description']}"]
    assert not spaced
    notes = [r for r in books.values() if "alternate cover" in str(r["description"])[:80].lower()]
    assert not notes  # Goodreads librarians' "alternate cover edition ... here" notes are cut


def test_document_has_title_author_and_shelves(books: dict[str, dict[str, object]]) -> None:
    doc = str(books["1"]["document"])
    assert doc.startswith("The Hunger Games (The Hunger Games, #1) by Suzanne Collins. Shelves: ")
    assert "young adult" in doc and "science fiction" in doc
    assert doc.index("Shelves:") < doc.index("WINNING MEANS")


def test_parquet_schema_and_manifest(ingested: IngestReport) -> None:
    assert described_schema(ingested.out_path) == BOOKS_SCHEMA
    manifest = json.loads(manifest_path(ingested.out_path).read_text())
    assert manifest["sha256"] == file_sha256(ingested.out_path) == ingested.checksum
    assert manifest["rows"] == 10_000 and manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["source"] == str(SHARED_DATA) and "built_at" in manifest


def test_sample_is_deterministic_and_prefers_described_books(
    ingested: IngestReport, tmp_path: Path
) -> None:
    first = build_sample(ingested.out_path, tmp_path / "a" / "books.parquet", n=300)
    again = build_sample(ingested.out_path, tmp_path / "b" / "books.parquet", n=300)
    other = build_sample(ingested.out_path, tmp_path / "c" / "books.parquet", n=300, seed=8)
    assert first.rows == 300 and first.checksum == again.checksum != other.checksum
    assert all(row["description"] for row in read_books(first.out_path).to_pylist())


# ---- small hand-made source folders --------------------------------------------------------------
BOOKS_HEADER = (
    "book_id,goodreads_book_id,work_id,isbn,authors,original_publication_year,title,"
    "language_code,average_rating,ratings_count,image_url"
)


def source_folder(root: Path, books: str, descriptions: dict[str, str]) -> None:
    """A goodbooks folder under `root`: books.csv rows (after the header) and files in
    book-descriptions/ by name."""
    (root / "goodbooks-10k").mkdir()
    (root / "goodbooks-10k" / "books.csv").write_text(f"{BOOKS_HEADER}\n{books}", encoding="utf-8")
    (root / "book-descriptions").mkdir()
    for name, text in descriptions.items():
        (root / "book-descriptions" / name).write_text(text, encoding="utf-8")


def test_optional_files_may_be_missing_and_isbn13_lines_are_unquoted(tmp_path: Path) -> None:
    source_folder(
        tmp_path,
        '1,99,5,393327345,"Chuck Palahniuk, ",1996.0,Fight Club,en-GB,4.1,10,'
        "https://s.gr-assets.com/assets/nophoto/book/111x148.png\n",
        {"descriptions_isbn13.txt": '"9780393327342 A ""support group"" of sorts."\nnot a description line\n'},
    )
    report = ingest_goodbooks(tmp_path, tmp_path / "out" / "books.parquet")
    assert report.bad_rows == {"descriptions_isbn13.txt:unparseable_line": 1}
    (book,) = read_books(report.out_path).to_pylist()
    assert book["description"] == 'A "support group" of sorts.'
    assert (book["authors"], book["language"], book["cover_url"], book["shelves"]) == (
        ["Chuck Palahniuk"], "eng", None, []
    )


def test_missing_or_incomplete_books_csv_raises(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no goodbooks catalog"):
        ingest_goodbooks(tmp_path, tmp_path / "books.parquet")
    (tmp_path / "goodbooks-10k").mkdir()
    (tmp_path / "goodbooks-10k" / "books.csv").write_text("book_id,title\n1,T\n")
    with pytest.raises(CatalogError, match="lacks column"):
        ingest_goodbooks(tmp_path, tmp_path / "books.parquet")


# ---- the committed sample (no shared data needed) ----------------------------------------------
def test_committed_sample_is_small_and_has_the_schema() -> None:
    assert SAMPLE_PATH.is_file(), f"missing {SAMPLE_PATH}"
    assert SAMPLE_PATH.stat().st_size <= MAX_SAMPLE_BYTES
    assert described_schema(SAMPLE_PATH) == BOOKS_SCHEMA
    table = read_books(SAMPLE_PATH)
    assert table.num_rows >= 2_000
    assert len(set(table.column("book_id").to_pylist())) == table.num_rows
    assert (SAMPLE_PATH.parent / "README.md").is_file()


def test_install_sample_copies_it_with_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "catalog" / "books.parquet"
    report = install_sample(out)
    assert report.checksum == file_sha256(SAMPLE_PATH) == file_sha256(out)
    assert json.loads(manifest_path(out).read_text())["rows"] == report.rows >= 2_000


def test_catalog_isbns_pass_the_rule_that_links_ratings(
    ingested: IngestReport, books: dict[str, dict[str, object]], source_dir: Path
) -> None:
    raw = duckdb.sql(
        f"SELECT book_id, isbn FROM read_csv('{source_dir / 'goodbooks-10k' / 'books.csv'}', "
        "all_varchar=true)"
    ).fetchall()
    failing = {book_id for book_id, value in raw if value and isbn.isbn10(value) is None}
    assert failing  # the published file has ISBNs whose checksum fails ...
    assert all(books[b]["isbn10"] is None for b in failing)  # ... they name no book ...
    assert ingested.stats["invalid_isbn10"] == len(failing)  # ... and are counted
    kept = [row["isbn10"] for row in books.values() if row["isbn10"]]
    assert len(kept) > 9_000 and all(isbn.isbn10(str(v)) == v for v in kept)


def test_python_and_sql_isbn_rules_agree_on_every_isbn_in_the_data(source_dir: Path) -> None:
    con = duckdb.connect()
    isbn.register(con)
    con.execute(
        f"CREATE TABLE raw AS SELECT isbn AS raw FROM read_csv('{source_dir / 'goodbooks-10k' / 'books.csv'}', all_varchar=true) "
        f"UNION ALL SELECT isbn_10 FROM read_csv('{source_dir / 'book-descriptions' / 'book_details.csv'}', all_varchar=true) "
        f"UNION ALL SELECT column1 FROM read_csv('{source_dir / 'book-crossing' / 'BX-Book-Ratings.csv.gz'}', "
        "delim=';', header=false, all_varchar=true, quote='', encoding='latin-1', strict_mode=false)"
    )
    rows = con.execute("SELECT DISTINCT raw, isbn10(raw), isbn_key(raw) FROM raw").fetchall()
    assert len(rows) > 300_000
    mismatches = [r for r in rows if (isbn.isbn10(r[0]), isbn.isbn_key(r[0])) != r[1:]]
    assert mismatches == []


def test_generated_summaries_fill_only_missing_blurbs_when_asked(tmp_path: Path) -> None:
    source_folder(
        tmp_path,
        "1,11,5,393327345,Chuck Palahniuk,1996.0,Fight Club,eng,4.1,10,\n"
        "2,12,6,000000002,Some One,2001.0,Quiet Book,eng,3.9,10,\n"
        "3,13,7,000000003,Some Two,2002.0,Quoted Book,eng,3.9,10,\n",
        {"book_details.csv": "isbn_10,description\n393327345,The publisher's own blurb.\n"},
    )
    with gzip.open(tmp_path / "book-descriptions" / "llm_summaries_goodbooks.csv.gz", "wt") as f:
        f.write('book_id,goodreads_book_id,description\n'
                '1,11,"""A summary that must lose to the blurb."""\n'
                '2,12,"""Discover a quiet tale of two ""lost"" friends."""\n'
                '3,13,"""A tale told in ""Quoted"""\n')
    plain = ingest_goodbooks(tmp_path, tmp_path / "plain.parquet")
    rows = {r["book_id"]: r for r in read_books(plain.out_path).to_pylist()}
    assert [rows[i]["description_source"] for i in "123"] == ["publisher", None, None]
    assert "descriptions_generated" in plain.stats and plain.stats["descriptions_generated"] == 0
    filled = ingest_goodbooks(tmp_path, tmp_path / "filled.parquet", generated_descriptions=True)
    rows = {r["book_id"]: r for r in read_books(filled.out_path).to_pylist()}
    assert rows["1"]["description"] == "The publisher's own blurb."
    assert rows["1"]["description_source"] == "publisher"
    # the wrapping quote marks go, the quotes inside stay
    assert rows["2"]["description"] == 'Discover a quiet tale of two "lost" friends.'
    assert rows["3"]["description"] == 'A tale told in "Quoted"'  # an odd quote: only the first goes
    assert rows["2"]["description_source"] == rows["3"]["description_source"] == "generated"
    assert "Discover a quiet tale" in str(rows["2"]["document"])
    assert filled.stats["descriptions_generated"] == 2 and filled.stats["books_with_description"] == 3
