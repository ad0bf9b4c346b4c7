"""Mood words in a vibe query bring the words books' blurbs use for that mood; other queries stay."""

from __future__ import annotations

import pytest

from vibeshelf.search.moods import mood_words


@pytest.mark.parametrize(
    ("query", "added"),
    [
        ("funny sci-fi", {"humor", "comedy", "satire"}),
        ("a Hilarious road trip", {"humor", "comedy"}),
        ("something to cheer me up", {"heartwarming", "uplifting"}),
        ("a creepy haunted house book", {"horror", "terrifying"}),
    ],
)
def test_a_mood_adds_the_words_blurbs_use(query: str, added: set[str]) -> None:
    assert added <= set(mood_words(query))


def test_words_already_in_the_query_are_not_added_again() -> None:
    added = mood_words("a creepy haunted house book")
    assert "horror" in added and not {"creepy", "haunted"} & set(added)


@pytest.mark.parametrize("query", ["space opera", "the funnybones", "dystopian young adult", "a laughing-stock"])
def test_a_query_without_a_mood_word_adds_nothing(query: str) -> None:
    assert mood_words(query) == []
