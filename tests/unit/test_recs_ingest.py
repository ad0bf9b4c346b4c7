"""Interactions ingest: Book-Crossing's encoding, quoting and ISBN quirks, other formats, bad rows, errors."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vibeshelf.cli.app import app
from vibeshelf.recommend.bxbooks import ingest_bx_books
from vibeshelf.recommend.interactions.bookcrossing import ingest_book_crossing
from vibeshelf.recommend.interactions.files import ingest_file
from vibeshelf.recommend.interactions.goodbooks import ingest_goodbooks
from vibeshelf.recommend.interactions.goodreads import ingest_goodreads
from vibeshelf.recommend.interactions.report import IngestError
from vibeshelf.recommend.storage.sqlite import SqliteStore

BX_RATINGS = [
    '"User-ID";"ISBN";"Book-Rating"',
    '"1";"034545104X";"0"',  # implicit
    '"2";"0155061224";"5"',
    '"3";"\\"0155061224\\"";"8"',  # Book-Crossing's \" escapes around an ISBN
    '"4";"0-345-45104-X";"7"',  # hyphens
    '"5";"034545104x";"10"',  # lower-case check digit
    '"6";"155061224";"3"',  # leading zero lost
    '"7";"9780345451040";"9"',  # ISBN-13
    '"8";"B00009EF82";"6"',  # an ASIN, not an ISBN
    '"9";"1234567890";"6"',  # bad checksum
    '"abc";"0155061224";"5"',  # bad user
    '"10";"0155061224";"eleven"',  # bad rating
    '"11";"0155061224";"11"',  # rating out of range
    '"12";"0155061224"',  # a field short
    '"2";"0155061224";"4"',  # duplicate (the higher rating wins)
    "",
    '"13";"0155061224";"6";"x"',  # a field too many
]
BX_BOOKS = [
    '"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";"Image-URL-L"',
    '"034545104X";"Flesh Tones: A Novel";"M. J. Rose";"2002";"Ballantine Books";"s";"m";"http://l/1.jpg"',
    '"0155061224";"Caf\u00e9 M\u00fcller &amp; \\"Friends\\"";"Ren\u00e9e";"0";"Harcourt";"s";"m";"http://l/2.jpg"',
    '"0155061224";"Duplicate";"X";"1999";"P";"s";"m";"u"',
    '"NOTANISBN";"Bad";"X";"1999";"P";"s";"m";"u"',
]


def write_gz(path: Path, lines: list[str], encoding: str = "latin-1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as fh:
        fh.write("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "events.sqlite3")


@pytest.fixture
def bx_dir(tmp_path: Path) -> Path:
    write_gz(tmp_path / "src" / "book-crossing" / "BX-Book-Ratings.csv.gz", BX_RATINGS)
    write_gz(tmp_path / "src" / "book-crossing" / "BX-Books.csv.gz", BX_BOOKS)
    return tmp_path / "src"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A two-book catalog: book "b1" has ISBN 034545104X, "b2" has 0155061224."""
    path = tmp_path / "books.parquet"
    pq.write_table(
        pa.table({"book_id": ["b1", "b2", "b3"], "isbn10": ["034545104X", "0155061224", None]}),
        path,
    )
    return path


def test_book_crossing_quirks_are_cleaned_and_counted(bx_dir: Path, store: SqliteStore) -> None:
    (report,) = ingest_book_crossing(bx_dir, store, books_path=None)
    assert report.rows_read == 15  # header and blank line are not rows
    assert report.dropped == {
        "invalid_isbn": 2,
        "bad_user": 1,
        "bad_rating": 2,
        "wrong_field_count": 2,
        "duplicate": 1,
    }
    assert report.rows_kept == 7
    rows = {r["user_id"]: r for r in store.read("book-crossing").to_pylist()}
    assert {u: r["item_id"] for u, r in rows.items()} == {
        "1": "034545104X",
        "2": "0155061224",
        "3": "0155061224",
        "4": "034545104X",
        "5": "034545104X",
        "6": "0155061224",
        "7": "034545104X",
    }
    assert rows["1"]["strength"] is None and rows["1"]["event"] == "implicit"
    assert rows["2"]["rating"] == 5 and rows["2"]["strength"] == pytest.approx(0.5)
    assert rows["5"]["strength"] == pytest.approx(1.0)
    assert "invalid_isbn" in report.examples and "summary" not in report.summary()


def test_book_crossing_links_to_the_catalog_by_isbn(
    bx_dir: Path, store: SqliteStore, catalog: Path
) -> None:
    full, linked = ingest_book_crossing(bx_dir, store, books_path=catalog)
    assert linked.source == "book-crossing-goodbooks"
    assert linked.rows_kept == full.rows_kept == 7
    assert {r["item_id"] for r in store.read("book-crossing-goodbooks").to_pylist()} == {"b1", "b2"}
    assert {s.name: s.item_space for s in store.sources()} == {
        "book-crossing": "book-crossing",
        "book-crossing-goodbooks": "catalog",
    }


def test_bx_books_become_their_own_catalog(bx_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "catalog" / "bx-books.parquet"
    report = ingest_bx_books(bx_dir, out)
    assert report.dropped == {"invalid_isbn": 1, "duplicate": 1}
    rows = {r["item_id"]: r for r in pq.read_table(out).to_pylist()}
    assert set(rows) == {"034545104X", "0155061224"}
    cafe = rows["0155061224"]  # latin-1 letters, &amp; and \" escapes; year 0 is unknown
    assert (cafe["title"], cafe["authors"], cafe["year"]) == (
        'Café Müller & "Friends"',
        ["Renée"],
        None,
    )
    assert rows["034545104X"] == {
        "item_id": "034545104X",
        "title": "Flesh Tones: A Novel",
        "authors": ["M. J. Rose"],
        "year": 2002,
        "publisher": "Ballantine Books",
        "cover_url": "http://l/1.jpg",
        "genres": [],
    }


def test_goodreads_style_file(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "goodreads-interactions" / "train_Interactions.csv.gz"
    write_gz(
        path, ["userID,bookID,rating", "u1,b1,0", "u1,b2,5", "u2,b1,3", "u2,,4", "u3,b9,7"], "utf-8"
    )
    report = ingest_goodreads(tmp_path, store)
    assert report.rows_kept == 3
    assert report.dropped == {"missing_item": 1, "bad_rating": 1}
    rows = sorted(store.read("goodreads").to_pylist(), key=lambda r: (r["user_id"], r["item_id"]))
    assert [(r["user_id"], r["item_id"], r["strength"]) for r in rows] == [
        ("u1", "b1", None),
        ("u1", "b2", 1.0),
        ("u2", "b1", 0.6),
    ]


def test_own_jsonl_with_mapping_timestamps_and_events(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        {"reader": "a", "book": "x1", "stars": 4, "when": "2021-03-04T10:00:00Z"},
        {"reader": "a", "book": "x2", "stars": 5, "when": 1614852000},
        {"reader": "b", "book": "x1", "stars": "lots"},
        {"reader": "", "book": "x3"},
        {"reader": "c", "book": "x3", "when": "yesterday"},
        {"reader": "c", "book": "x4", "action": "wishlist"},
    ]
    path.write_text("\n".join([json.dumps(x) for x in lines] + ["not json", ""]) + "\n")
    mapping = {
        "user": "reader",
        "item": "book",
        "rating": "stars",
        "timestamp": "when",
        "event": "action",
    }
    report = ingest_file(path, mapping, store, "mine")
    assert report.dropped == {"bad_rating": 1, "missing_user": 1, "bad_timestamp": 1, "bad_json": 1}
    rows = {(r["user_id"], r["item_id"]): r for r in store.read("mine").to_pylist()}
    assert set(rows) == {("a", "x1"), ("a", "x2"), ("c", "x4")}
    assert rows[("a", "x1")]["ts"] == datetime(2021, 3, 4, 10, 0)
    assert rows[("a", "x2")]["ts"] == datetime(2021, 3, 4, 10, 0)
    assert rows[("a", "x1")]["strength"] == pytest.approx(0.8)  # inferred 5-star scale
    assert rows[("c", "x4")]["event"] == "wishlist" and rows[("c", "x4")]["strength"] is None


@pytest.mark.parametrize(
    ("name", "columns", "items", "dropped", "kept"),
    [
        (
            "mine.csv",
            {
                "who": ["r1", "r1", "r2", "r3"],
                "isbn": ["0-345-45104-X", "9999999990", "0155061224", "0441172717"],
                "score": [8, 9, 10, 7],
            },
            "isbn",
            {"invalid_isbn": 1, "not_in_catalog": 1},
            [("r1", "b1", 0.8), ("r2", "b2", 1.0)],
        ),
        (
            "mine.parquet",
            {"who": ["x", "x", "y"], "isbn": ["b1", "zz", "b3"], "score": [1.0, 1.0, None]},
            "catalog",
            {"not_in_catalog": 1},
            [("x", "b1", 1.0), ("y", "b3", None)],
        ),
    ],
)
def test_own_file_links_to_the_catalog(
    tmp_path: Path,
    store: SqliteStore,
    catalog: Path,
    name: str,
    columns: dict[str, list[object]],
    items: str,
    dropped: dict[str, int],
    kept: list[tuple[str, str, float | None]],
) -> None:
    path = tmp_path / name
    (pq.write_table if path.suffix == ".parquet" else pa_csv.write_csv)(pa.table(columns), path)
    mapping = {"user": "who", "item": "isbn", "rating": "score"}
    report = ingest_file(path, mapping, store, "mine", items=items, books_path=catalog)
    assert report.dropped == dropped
    rows = store.read("mine").to_pylist()
    assert sorted((r["user_id"], r["item_id"], r["strength"]) for r in rows) == kept
    assert store.source("mine").item_space == "catalog"


def test_goodbooks_ratings_link_by_book_id_and_drop_repeats(
    tmp_path: Path, store: SqliteStore, catalog: Path
) -> None:
    lines = ["book_id,user_id,rating", "b1,7,5", "b1,7,3", "b2,7,4", "b9,8,2", "b2,8,6"]
    write_gz(tmp_path / "goodbooks-10k" / "ratings.csv.gz", lines, "utf-8")
    report = ingest_goodbooks(tmp_path, store, catalog)
    assert report.rows_read == 5
    assert report.dropped == {"duplicate": 1, "not_in_catalog": 1, "bad_rating": 1}
    rows = store.read("goodbooks").to_pylist()
    assert sorted((r["user_id"], r["item_id"], r["rating"]) for r in rows) == [
        ("7", "b1", 5.0),  # the repeated (b1, 7) keeps its higher rating
        ("7", "b2", 4.0),
    ]
    assert store.source("goodbooks").item_space == "catalog"


def test_csv_with_a_broken_line_counts_it(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "x.csv"
    path.write_text('u,i\na,1\n"b,2\nc,3\n')
    report = ingest_file(path, {"user": "u", "item": "i"}, store, "x")
    assert report.rows_kept >= 2
    assert report.rows_read == report.rows_kept + sum(report.dropped.values())


@pytest.mark.parametrize("content", [None, b"\x1f\x8b\x08garbage that is not gzip"])
def test_unreadable_files_raise_a_clear_error(
    tmp_path: Path, store: SqliteStore, content: bytes | None
) -> None:
    path = tmp_path / "book-crossing" / "BX-Book-Ratings.csv.gz"
    if content is not None:
        path.parent.mkdir()
        path.write_bytes(content)
    with pytest.raises(IngestError, match="BX-Book-Ratings"):
        ingest_book_crossing(tmp_path, store, None)


def test_mapping_to_a_missing_column_is_an_error(tmp_path: Path, store: SqliteStore) -> None:
    path = tmp_path / "x.csv"
    path.write_text("u,i\na,1\n")
    with pytest.raises(IngestError, match="no column"):
        ingest_file(path, {"user": "u", "item": "book"}, store, "x")


def test_cli_exits_2_on_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    missing = tmp_path / "nope.csv"
    interactions = ["ingest", "interactions"]
    result = runner.invoke(app, [*interactions, "file", str(missing), "--map", "user=u", "--map", "item=i"])
    assert result.exit_code == 2
    assert "nope.csv" in result.output
    result = runner.invoke(app, [*interactions, "book-crossing", "--source", str(tmp_path)])
    assert result.exit_code == 2
    assert "BX-Book-Ratings" in result.output


def test_cli_ingests_goodbooks_ratings_beside_the_other_sources(
    tmp_path: Path, catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(data_dir))
    lines = ["book_id,user_id,rating", "b1,7,5", "b1,7,3", "b3,8,2"]
    write_gz(tmp_path / "src" / "goodbooks-10k" / "ratings.csv.gz", lines, "utf-8")
    runner = CliRunner()
    command = ["ingest", "interactions", "goodbooks", "--source", str(tmp_path / "src")]
    result = runner.invoke(app, command)
    assert result.exit_code == 2 and "links to the catalog" in result.output  # no catalog yet
    (data_dir / "catalog").mkdir(parents=True)
    catalog.rename(data_dir / "catalog" / "books.parquet")
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "3 rows read" in result.output and "2 kept" in result.output
    assert "duplicate 1" in result.output
    result = runner.invoke(app, ["ingest", "interactions", "sources", "--json"])
    assert [(s["name"], s["item_space"], s["rows"]) for s in json.loads(result.output)] == [
        ("goodbooks", "catalog", 2)
    ]
