"""Shelf abbreviations in a vibe query are spelled out; words that only contain them are not."""

from __future__ import annotations

import pytest

from vibeshelf.search.spelling import spell_out, without_request_words


@pytest.mark.parametrize(
    ("query", "spelled"),
    [
        ("dystopian YA with a strong female lead", "dystopian young adult with a strong female lead"),
        ("scifi, SF or ya.", "sci-fi, sci-fi or young adult."),
        ("WW2 spies", "world war ii spies"),
        ("Divine Secrets of the Ya-Ya Sisterhood", "Divine Secrets of the Ya-Ya Sisterhood"),
        ("yay, a mayan story", "yay, a mayan story"),
    ],
)
def test_abbreviations_become_the_shelf_phrases_words(query: str, spelled: str) -> None:
    assert spell_out(query) == spelled


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("baby fever, books about motherhood", "baby fever, about motherhood"),
        ("heartbreaking Book about a dog", "heartbreaking about a dog"),
        ("a road trip novel", "a road trip"),
        ("e-books and novel-length verse", "e-books and novel-length verse"),
        ("a fireman whose job is to burn books meets a neighbour", "a fireman whose job is to burn books meets a neighbour"),
        ("books", "books"),
        ("good novels!", "good !"),
    ],
)
def test_request_words_leave_the_lexical_text(query: str, kept: str) -> None:
    assert without_request_words(query) == kept
