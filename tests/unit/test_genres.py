"""Canonical genres: the shipped map covers the catalog's shelves, near-duplicates share a genre,
each book's genres come most specific first, and old catalogs get theirs when read."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.genres import (
    GenreMapError,
    genre_map,
    rank_genres,
    read_genre_map,
    shelf_key,
)
from vibeshelf.catalog.sample import SAMPLE_PATH
from vibeshelf.catalog.schema import V1_ARROW_SCHEMA, read_books


def test_every_sample_shelf_is_mapped_or_marked_not_a_genre() -> None:
    shelves = {s for row in pq.read_table(SAMPLE_PATH, columns=["shelves"]).column(0).to_pylist()
               for s in row}
    assert len(shelves) > 300
    assert sorted(shelves - set(genre_map().shelves)) == []


def test_the_vocabulary_is_readable_and_sized_for_people() -> None:
    genres = genre_map().genres
    assert 60 <= len(genres) <= 150
    assert {"fantasy", "science fiction", "cozy mystery", "young adult", "children's",
            "southern gothic", "magical realism", "cyberpunk", "memoir", "self-help"} <= set(genres)
    assert all(g == g.strip().lower() and "-" != g for g in genres)


@pytest.mark.parametrize("same", [
    ["sci-fi", "scifi", "science-fiction", "sciencefiction", "fiction-sci-fi"],
    ["ya", "young-adult", "young-adults", "ya-books", "young-adult-fiction", "teen"],
    ["mystery", "genre-mystery", "murder-mystery"],
    ["children-s-books", "childrens-books", "children-s-literature", "childrens"],
    ["historical-fiction", "historic-fiction", "historical", "historicalfiction"],
    ["graphic-novels", "graphic-novel"],
    ["fantasy-humor", "fantasy-humour", "comic-fantasy"],
    ["cozy-mystery", "mystery-cozy"],
    ["world-war-ii", "world-war-2", "world-war-two", "world-war-ll"],
])
def test_near_duplicate_shelves_map_to_one_genre(same: list[str]) -> None:
    assert len({genre_map().of_shelf(s) for s in same}) == 1, {s: genre_map().of_shelf(s) for s in same}


def test_organisational_shelves_are_not_genres() -> None:
    for shelf in ("to-read-fiction", "favorite-fantasy", "manga-i-own", "award-winners", "02-fantasy"):
        assert genre_map().of_shelf(shelf) == (), shelf


def test_an_unknown_shelf_joins_a_near_duplicate_or_is_its_own_genre_unless_it_is_noise() -> None:
    assert genre_map().of_shelf("mysteries") == genre_map().of_shelf("mystery") == ("mystery",)
    assert genre_map().of_shelf("Space_Pirates") == ("space pirates",)
    assert genre_map().of_shelf("read-in-2019") == ()


def test_shelf_key_joins_spellings_and_keeps_different_ideas_apart() -> None:
    assert len({shelf_key(s) for s in ("sci-fi", "scifi", "science-fiction", "sf")}) == 1
    keys = [shelf_key(s) for s in ("science-fiction", "science", "non-fiction-science")]
    assert len(set(keys)) == 3


def test_a_book_s_genres_rarest_and_most_voted_first_broad_ones_last() -> None:
    books = [
        ["fiction", "mystery", "mysteries", "cozy-mystery", "to-read"],
        ["fiction", "mystery", "thriller"],
        ["fiction", "mystery", "thriller"],
        ["fiction", "romance"],
    ]
    ranked = rank_genres(books)
    assert ranked[0] == ["cozy mystery", "mystery", "fiction"]  # on one book of four, then three
    assert ranked[1] == ["thriller", "mystery", "fiction"]
    assert ranked[3] == ["romance", "fiction"]
    assert rank_genres([[], None]) == [[], []]
    # Two shelves naming a genre outrank one naming another as rare.
    assert rank_genres([["horror", "ghosts", "ghost-stories"], ["x"], ["y"]])[0] == ["ghosts", "horror"]


def test_a_map_line_without_its_tab_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "map.tsv"
    path.write_text("# comment\nfantasy\tfantasy\nscifi science fiction\n", encoding="utf-8")
    with pytest.raises(GenreMapError, match=r"map.tsv:3: expected shelf<TAB>genres"):
        read_genre_map(path)
    path.write_text("Sci_Fi\tscience fiction; speculative fiction\nto-read\t-\n", encoding="utf-8")
    assert read_genre_map(path).shelves == {
        "sci-fi": ("science fiction", "speculative fiction"), "to-read": ()
    }


def test_a_catalog_written_before_genres_gets_them_when_read(tmp_path: Path) -> None:
    """A version 1 books table (no genres, no description sources) reads as the current one."""
    old = tmp_path / "books.parquet"
    current = pq.read_table(SAMPLE_PATH)
    pq.write_table(current.drop_columns(["genres", "description_source"]).cast(V1_ARROW_SCHEMA), old)
    table = read_books(old)
    assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in current.schema]
    assert table.column("genres").to_pylist() == rank_genres(current.column("shelves").to_pylist())
    assert table.column("description_source").to_pylist() == [
        "publisher" if d else None for d in current.column("description").to_pylist()
    ]
    books = BookCatalog.load(old)
    assert books.genre_counts and sum(books.genre_counts.values()) == sum(
        len(g) for g in table.column("genres").to_pylist()
    )
