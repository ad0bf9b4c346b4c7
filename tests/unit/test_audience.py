"""Picture books for young children, and the queries that ask for them or for a mood they lack."""

from __future__ import annotations

import pytest

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.search.audience import asks_for_young, grown_up_mood, young_books


@pytest.mark.parametrize(
    ("query", "young", "grown_up"),
    [
        ("heartbreaking book about a dog", False, True),
        ("books that make you cry", False, True),
        ("a sad picture book about a dog for my daughter", True, False),
        ("bedtime stories for toddlers", True, False),
        ("gift for a 5 year old", True, False),
        ("old legends and traditional tales", False, False),
        ("funny sci-fi", False, False),
        ("dark fantasy", False, True),
        ("the darkest minds", False, False),
        ("dystopian young adult with a strong female lead", False, False),
        ("a thriller for adults", False, True),
    ],
)
def test_what_a_query_asks_for(query: str, young: bool, grown_up: bool) -> None:
    assert (asks_for_young(query), grown_up_mood(query)) == (young, grown_up)


def test_picture_books_are_the_young_books_by_their_most_specific_genres() -> None:
    def book(book_id: str, genres: list[str]) -> Book:
        return Book(
            book_id, f"Book {book_id}", [], None, None, None, 0, [], None, None, None, None, genres=genres
        )

    catalog = BookCatalog([
        book("1", ["picture books", "children's", "fiction"]),
        book("2", ["children's", "middle grade", "classics", "picture books"]),  # only in its tail
        book("3", ["thriller"]),
        book("4", []),
    ])
    assert young_books(catalog) == {"1"}
    assert young_books(BookCatalog([book("3", ["thriller"])])) == frozenset()
