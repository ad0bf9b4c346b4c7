"""Mood words in a vibe query bring the words books' blurbs use for that mood; other queries stay."""

from __future__ import annotations

import pytest

from vibeshelf.search.moods import with_moods


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
    widened = with_moods(query)
    assert widened.startswith(query + " ")
    assert added <= set(widened[len(query):].split())


def test_words_already_in_the_query_are_not_added_twice() -> None:
    widened = with_moods("a creepy haunted house book").split()
    assert widened.count("creepy") == 1 and widened.count("haunted") == 1


@pytest.mark.parametrize("query", ["space opera", "the funnybones", "dystopian young adult", "a laughing-stock"])
def test_a_query_without_a_mood_word_is_unchanged(query: str) -> None:
    assert with_moods(query) == query
