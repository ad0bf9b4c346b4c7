"""What a title says of its series: name and number, omnibus ranges, reading order."""

from __future__ import annotations

import pytest

from vibeshelf.catalog.series import (
    collected_series,
    in_reading_order,
    is_companion,
    series_of,
    words_key,
)


@pytest.mark.parametrize(
    ("title", "found"),
    [
        ("Catching Fire (The Hunger Games, #2)", ("The Hunger Games", 2.0)),
        ("Dune (Dune Chronicles #1)", ("Dune Chronicles", 1.0)),
        ("The Truth (Discworld, #25; Industrial Revolution, #2)", ("Discworld", 25.0)),
        (
            "Homeland (Forgotten Realms: The Dark Elf Trilogy, #1; Legend of Drizzt, #1)",
            ("Forgotten Realms: The Dark Elf Trilogy", 1.0),
        ),
        ("Four: A Divergent Story Collection (Divergent, #0.1 - 0.4)", None),
        ("Harry Potter Boxset (Harry Potter, #1-7)", None),
        ("The Hobbit", None),
        ("(#3)", None),
    ],
)
def test_series_of_reads_the_first_numbered_series(
    title: str, found: tuple[str, float] | None
) -> None:
    assert series_of(title) == found


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Harry Potter Boxset (Harry Potter, #1-7)", "harry potter"),
        ("His Dark Materials (His Dark Materials #1-3)", "his dark materials"),
        ("The Twilight Saga Complete Collection (Twilight, #1-4 + 3.5)", "twilight"),
        ("Catching Fire (The Hunger Games, #2)", None),
        ("The Great Dune Trilogy", None),
    ],
)
def test_collected_series_names_the_series_of_an_omnibus_range(title: str, key: str | None) -> None:
    assert collected_series(title) == key


def test_a_range_is_a_companion_only_when_the_series_own_books_are_there() -> None:
    assert is_companion(
        "The Lord of the Rings (The Lord of the Rings, #1-3)", {"the lord of the rings"}
    )
    assert not is_companion("The Lord of the Rings (The Lord of the Rings, #1-3)", {"dune"})
    assert is_companion("The Great Dune Trilogy")
    assert words_key("The Truth (Discworld, #25; Industrial Revolution, #2)") == "the truth"


def test_in_reading_order_keeps_places_and_puts_novellas_after_whole_books() -> None:
    series = {
        "a6": ("a", 6.0),
        "a5": ("a", 5.0),
        "a1.5": ("a", 1.5),
        "b2": ("b", 2.0),
        "b1": ("b", 1.0),
    }
    assert in_reading_order(["a6", "x", "b2", "a1.5", "a5", "b1"], series) == [
        "a5",
        "x",
        "b1",
        "a6",
        "a1.5",
        "b2",
    ]
    assert in_reading_order(["x", "a6"], series) == ["x", "a6"]
