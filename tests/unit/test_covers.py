"""Cover placeholders: the title's initials and a tone that stays the same for a book."""

from __future__ import annotations

import pytest

from vibeshelf.serve.covers import TONES, cover_tone, initials, real_cover


@pytest.mark.parametrize(("title", "expected"), [
    ("The Hobbit", "H"),
    ("A Game of Thrones (A Song of Ice and Fire, #1)", "GO"),
    ("Harry Potter and the Sorcerer's Stone (Harry Potter, #1)", "HP"),
    ("1984", "1"),
    ("The", "T"),
    ("(Untitled)", "U"),
    ("¿?", "?"),
])
def test_initials(title: str, expected: str) -> None:
    assert initials(title) == expected


def test_a_book_keeps_its_tone_and_books_spread_over_the_tones() -> None:
    assert cover_tone("2767052") == cover_tone("2767052")
    tones = {cover_tone(str(book_id)) for book_id in range(200)}
    assert tones == set(range(TONES))


@pytest.mark.parametrize(("url", "real"), [
    ("https://images.gr-assets.com/books/1447303603m/2767052.jpg", True),
    ("https://s.gr-assets.com/assets/nophoto/book/111x148-bcc042a9c91a29c1d680899eff700a03.png", False),
    ("", False),
    (None, False),
])
def test_real_cover(url: str | None, real: bool) -> None:
    assert real_cover(url) is real
