"""Shelf de-noising keeps shelves about the book and drops shelves about the reader."""

import pytest

from vibeshelf.catalog.shelves import clean_shelves, is_noise, normalize_shelf, shelf_phrase


@pytest.mark.parametrize(
    "shelf",
    [
        "to-read", "currently-reading", "owned", "owned-books", "favorites", "favourites",
        "my-favorites", "all-time-favorites", "fantasy-favorites", "favorite-manga", "books-i-own",
        "default", "library", "kindle", "ebook", "ebooks", "audiobook", "audiobooks", "re-read",
        "wish-list", "did-not-finish", "dnf", "read-in-2015", "2019", "2019-reads", "to-buy",
        "i-own", "to-read-fiction", "fiction-to-read", "manga-i-own", "manga-i-ve-read",
        "read-fantasy", "fantasy-read", "02-fantasy", "my-manga", "To Read", "  ", "",
    ],
)
def test_organisational_shelves_are_noise(shelf: str) -> None:
    assert is_noise(shelf)


@pytest.mark.parametrize(
    "shelf",
    [
        "cozy-mystery", "sci-fi", "fantasy", "magical-realism", "read-aloud", "teen-reads",
        "19th-century-literature", "20th-century-fiction", "1984", "southern-gothic", "favela",
        "young-adult", "Dark Romance",
    ],
)
def test_descriptive_shelves_are_kept(shelf: str) -> None:
    assert not is_noise(shelf)


def test_clean_shelves_normalises_dedupes_and_keeps_order() -> None:
    raw = [" Cozy Mystery", "to-read", "cozy-mystery", "sci-fi", None, "", "fantasy", "Sci_Fi",
           "sci-fi---fantasy", "favorites"]
    assert clean_shelves(raw) == ["cozy-mystery", "sci-fi", "fantasy", "sci-fi-fantasy"]
    assert clean_shelves(None) == []


def test_normalize_shelf() -> None:
    assert normalize_shelf("  Southern  Gothic ") == "southern-gothic"


@pytest.mark.parametrize(
    ("shelf", "phrase"),
    [
        ("cozy-mystery", "cozy mystery"),
        ("sci-fi", "sci-fi"),
        ("hard-sci-fi", "hard sci-fi"),
        ("ya", "young adult"),
        ("ya-fantasy", "young adult fantasy"),
        ("children-s-books", "children's books"),
        ("non-fiction", "non-fiction"),
        ("post-apocalyptic", "post-apocalyptic"),
        ("world-war-ii", "world war ii"),
    ],
)
def test_shelf_phrase(shelf: str, phrase: str) -> None:
    assert shelf_phrase(shelf) == phrase
