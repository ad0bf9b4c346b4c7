"""A user's own catalog (CSV, JSONL, Parquet) via a mapping: bad rows counted, bad files refused."""

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog.custom import ingest_file
from vibeshelf.catalog.schema import (
    BOOKS_SCHEMA,
    SCHEMA_VERSION,
    CatalogError,
    manifest_path,
    read_books,
)
from vibeshelf.catalog.table import split_delimited
from vibeshelf.storage.files import file_sha256

MAPPING = {
    "book_id": "id", "title": "Title", "authors": "Author", "year": "Year",
    "average_rating": "Rating", "shelves": "Tags", "description": "Blurb", "isbn10": "ISBN",
    "language": "Lang",
}
CSV = """id,Title,Author,Year,Rating,Tags,Blurb,ISBN,Lang
1,  The  Hobbit ,J.R.R. Tolkien,1937.0,4.3,"fantasy, to-read, Dragons",In a hole.There lived,\
618260307,en-US
2,Emma,Jane Austen|Someone Else,1815,4.0,classics;romance,,0141439580,EN-GB
,No Id,X,2000,3,,,,
3,,X,2000,3,,,,
1,Duplicate Hobbit,X,2000,3,,,,
4,Bad Year,X,someday,3,,,,
5,Bad Rating,X,2000,great,,,,
6,Too,Many,Fields,1,2,3,4,5,6
7,Ancient,Homer,-750,,,,9780140268867,
"""


def books(path: Path) -> list[dict[str, object]]:
    return read_books(path).to_pylist()


def test_csv_rows_are_cleaned_and_bad_rows_counted(tmp_path: Path) -> None:
    source = tmp_path / "books.csv"
    source.write_text(CSV, encoding="utf-8")
    out = tmp_path / "out" / "books.parquet"
    report = ingest_file(source, MAPPING, out)

    assert report.bad_rows == {
        "missing_id": 1, "missing_title": 1, "duplicate_id": 1, "bad_year": 1, "bad_rating": 1,
        "malformed_row": 1,
    }
    rows = books(out)
    assert [r["book_id"] for r in rows] == ["1", "2", "7"]
    hobbit, emma, iliad = rows
    assert hobbit["title"] == "The Hobbit"
    assert hobbit["year"] == 1937 and hobbit["language"] == "eng"
    assert hobbit["shelves"] == ["fantasy", "dragons"]
    assert hobbit["description"] == "In a hole. There lived"
    assert hobbit["isbn10"] == "0618260307"
    # Canonical genres (to-read is none); as rare and as voted as each other here, so by name.
    assert hobbit["genres"] == ["dragons", "fantasy"]
    assert hobbit["document"] == (
        "The Hobbit by J.R.R. Tolkien. Shelves: fantasy, dragons. In a hole. There lived"
    )
    assert emma["authors"] == ["Jane Austen", "Someone Else"]
    assert emma["shelves"] == ["classics", "romance"] and emma["description"] is None
    assert iliad["year"] == -750 and iliad["ratings_count"] == 0
    assert iliad["isbn10"] == "0140268863"
    assert report.rows == 3 and "skipped 6 bad rows" in report.summary()


def test_manifest_records_rows_reasons_and_checksum(tmp_path: Path) -> None:
    source = tmp_path / "books.csv"
    source.write_text(CSV, encoding="utf-8")
    out = tmp_path / "books.parquet"
    report = ingest_file(source, MAPPING, out)
    manifest = json.loads(manifest_path(out).read_text())
    assert manifest["rows"] == 3 and manifest["bad_rows"] == report.bad_rows
    assert manifest["sha256"] == file_sha256(out) == report.checksum
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["built_at"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_jsonl_with_lists_strings_and_mixed_types(tmp_path: Path) -> None:
    lines = [
        {"id": 10, "name": "Dune", "by": ["Frank Herbert"], "yr": 1965, "tags": "sci-fi|owned"},
        {"id": 11, "name": "Beloved", "by": "Toni Morrison", "yr": "1987", "tags": ["gothic"]},
        {"id": 12, "name": "Later", "by": "X", "yr": "n/a"},
    ]
    source = tmp_path / "catalog.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    mapping = {"book_id": "id", "title": "name", "authors": "by", "year": "yr", "shelves": "tags"}
    report = ingest_file(source, mapping, tmp_path / "books.parquet")
    assert report.bad_rows == {"bad_year": 1}
    dune, beloved = books(tmp_path / "books.parquet")
    assert (dune["book_id"], dune["authors"], dune["year"], dune["shelves"]) == (
        "10", ["Frank Herbert"], 1965, ["sci-fi"]
    )
    assert (beloved["authors"], beloved["year"], beloved["shelves"]) == (
        ["Toni Morrison"], 1987, ["gothic"]
    )


def test_malformed_jsonl_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    source = tmp_path / "catalog.jsonl"
    source.write_text(
        '{"id": 1, "name": "Dune"}\n'
        '{"id": 2, "name": \n'
        "\n"
        "not json at all\n"
        '["an", "array"]\n'
        '{"id": 3, "name": "Emma"}\n'
        '{"id": 4}\n',
        encoding="utf-8",
    )
    report = ingest_file(source, {"book_id": "id", "title": "name"}, tmp_path / "books.parquet")
    assert report.bad_rows == {"malformed_row": 3, "missing_title": 1}
    assert [(r["book_id"], r["title"]) for r in books(tmp_path / "books.parquet")] == [
        ("1", "Dune"), ("3", "Emma")
    ]


def test_a_json_array_of_objects_is_read_too(tmp_path: Path) -> None:
    source = tmp_path / "catalog.json"
    source.write_text('[{"id": 1, "name": "Dune"},\n {"id": 2, "name": "Emma"}]\n')
    report = ingest_file(source, {"book_id": "id", "title": "name"}, tmp_path / "books.parquet")
    assert report.bad_rows == {} and report.rows == 2


def test_parquet_with_native_types(tmp_path: Path) -> None:
    table = pa.table({
        "key": ["a", "b", "a"],
        "name": ["Piranesi", "Circe", "Again"],
        "writers": [["Susanna Clarke"], ["Madeline Miller", " "], ["X"]],
        "pub": [2020, 2018, 2000],
        "stars": [4.2, 4.3, 1.0],
        "count": [100, None, 5],
        "link": ["https://example.org/a", None, None],
    })
    source = tmp_path / "mine.data"
    pq.write_table(table, source)
    mapping = {"book_id": "key", "title": "name", "authors": "writers", "year": "pub",
               "average_rating": "stars", "ratings_count": "count", "url": "link"}
    report = ingest_file(source, mapping, tmp_path / "books.parquet", fmt="parquet")
    assert report.bad_rows == {"duplicate_id": 1}
    piranesi, circe = books(tmp_path / "books.parquet")
    assert piranesi["ratings_count"] == 100 and piranesi["url"] == "https://example.org/a"
    assert circe["authors"] == ["Madeline Miller"] and circe["ratings_count"] == 0
    assert circe["average_rating"] == pytest.approx(4.3)


def test_output_has_the_books_schema(tmp_path: Path) -> None:
    source = tmp_path / "books.csv"
    source.write_text(CSV, encoding="utf-8")
    out = tmp_path / "books.parquet"
    ingest_file(source, MAPPING, out)
    with duckdb.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()
    assert tuple((name, kind) for name, kind, *_ in described) == BOOKS_SCHEMA


@pytest.mark.parametrize(
    ("name", "content", "mapping", "message"),
    [
        ("absent.csv", None, MAPPING, "no such file"),
        ("broken.parquet", b"PAR1 this is not parquet", {"book_id": "a", "title": "b"},
         "cannot read"),
        ("books.csv", CSV.encode(), {**MAPPING, "title": "Name"}, "no column 'Name'"),
        ("books.csv", CSV.encode(), {"book_id": "id"}, "title"),
        ("books.csv", CSV.encode(), {**MAPPING, "pages": "Pages"}, "unknown column"),
        ("books.xlsx", b"PK\x03\x04", {"book_id": "a", "title": "b"}, "format"),
        ("broken.jsonl", b"{oops\nnot json\n", {"book_id": "a", "title": "b"}, "no JSON objects"),
        ("binary.jsonl", b"\x00\x01\xff\xfe", {"book_id": "a", "title": "b"}, "no JSON objects"),
        ("only-bad.csv", b"id,Title\n,\n1,\n", {"book_id": "id", "title": "Title"},
         "no usable rows"),
    ],
)
def test_unreadable_input_raises_catalog_error(
    tmp_path: Path, name: str, content: bytes | None, mapping: dict[str, str], message: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    out = tmp_path / "out" / "books.parquet"
    with pytest.raises(CatalogError, match=message) as caught:
        ingest_file(source, mapping, out)
    assert "\n" not in str(caught.value)
    assert not out.exists()


def test_failed_ingest_keeps_the_previous_catalog(tmp_path: Path) -> None:
    source = tmp_path / "books.csv"
    source.write_text(CSV, encoding="utf-8")
    out = tmp_path / "books.parquet"
    ingest_file(source, MAPPING, out)
    before = file_sha256(out)
    with pytest.raises(CatalogError):
        ingest_file(source, {**MAPPING, "title": "Missing"}, out)
    assert file_sha256(out) == before


def test_split_delimited_picks_the_delimiter() -> None:
    assert split_delimited("Smith, John; Doe, Jane") == ["Smith, John", "Doe, Jane"]
    assert split_delimited("a | b|a") == ["a", "b"]
    assert split_delimited("a, b") == ["a", "b"]
    assert split_delimited('["x", "y"]') == ["x", "y"]
    assert split_delimited(None) == []
