"""The title-hijack test on hand-made books: a title word alone, or something more."""

from __future__ import annotations

import pytest

from vibeshelf.catalog.books import Book
from vibeshelf.search.hijack import content_words, hijacked_share, is_title_hijack


def book(title: str, shelves: list[str], description: str | None = None, author: str = "A. Writer") -> Book:
    return Book("1", title, [author], 2000, "eng", 4.0, 10, shelves, description, None, None, None)


GO_DOG = book("Go, Dog. Go!", ["childrens", "picture-books"], "Big and little animals drive cars to a party.")
RED_FERN = book("Where the Red Fern Grows", ["classics"], "A boy and his two hunting dogs in the Ozarks.")
DOG_SHELF = book("Marley and Me: the World's Worst Dog", ["memoir", "dogs"])
SECRET_ART = book("The Secret Art of Dr. Seuss", ["art"], "Paintings he kept at home.")


def test_request_words_and_stop_words_are_not_content() -> None:
    assert content_words("books like The Secret History") == {"secret", "histori"}
    assert content_words("heartbreaking book about a dog") == {"heartbreak", "dog"}


@pytest.mark.parametrize(
    ("query", "found", "hijacked"),
    [
        ("heartbreaking book about a dog", GO_DOG, True),  # "dog" only in the title
        ("heartbreaking book about a dog", RED_FERN, False),  # no query word in the title
        ("heartbreaking book about a dog", DOG_SHELF, False),  # the title and a shelf
        ("books like The Secret History", SECRET_ART, True),
        ("the secret art of paintings", SECRET_ART, False),  # the description says "paintings"
        ("dr seuss by a writer", SECRET_ART, False),  # the author matches too
    ],
)
def test_a_hijack_matches_only_through_its_title(query: str, found: Book, hijacked: bool) -> None:
    assert is_title_hijack(content_words(query), found) is hijacked


def test_hijacked_share_looks_at_the_top_three_shown() -> None:
    query = "heartbreaking book about a dog"
    assert hijacked_share(query, [GO_DOG, RED_FERN, DOG_SHELF, GO_DOG]) == pytest.approx(1 / 3)
    assert hijacked_share(query, [None, GO_DOG]) == 1.0  # a book the catalog lacks is not counted
    assert hijacked_share(query, []) == 0.0
