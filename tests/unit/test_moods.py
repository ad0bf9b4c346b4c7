"""Mood words in a vibe query bring the words books' blurbs use for that mood; other queries stay."""

from __future__ import annotations

import pytest

from vibeshelf.search.moods import idioms, mood_words


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


@pytest.mark.parametrize(
    ("query", "kept", "meant"),
    [
        ("books that make you cry", "books that", {"heartbreaking", "tragic"}),
        ("a tearjerker about a horse", "a about a horse", {"heartbreaking"}),
        ("baby fever, books about motherhood", "books about motherhood", {"baby", "pregnancy"}),
        ("a thriller that will keep me up at night", "a thriller that will", {"suspense", "gripping"}),
        ("something to make me laugh out loud", "something to", {"humor", "comedy"}),
    ],
)
def test_a_figure_of_speech_is_searched_by_its_meaning_not_its_words(
    query: str, kept: str, meant: set[str]
) -> None:
    text, figures, added = idioms(query)
    assert text == kept and figures and meant <= set(added)
    assert "motherhood" not in added and "thriller" not in added  # already in the query


@pytest.mark.parametrize("query", ["cry, the beloved country", "a fever dream of a novel", "a sad book about a horse"])
def test_words_of_a_figure_used_plainly_stay(query: str) -> None:
    assert idioms(query) == (query, [], [])
