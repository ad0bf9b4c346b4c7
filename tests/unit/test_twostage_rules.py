"""Each business rule on hand-built ranked lists: what it keeps, what it moves, when it relaxes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.config.ranking import RankingSettings
from vibeshelf.recommend.twostage.books import BookFacts, book_facts
from vibeshelf.recommend.twostage.ranked import ListContext, Move, Ranked
from vibeshelf.recommend.twostage.rules import (
    ExcludeReadRule,
    LanguageRule,
    MaxPerGenreRule,
    MinRatingRule,
    SeriesOrderRule,
    apply_rules,
    make_rules,
)


def books(*genres: str, language: str | None = "eng", rating: float | None = 4.0) -> list[Ranked]:
    """Books b0, b1, ... in rank order, each of one genre ('' for none)."""
    return [
        Ranked(f"b{n}", 1.0 - n / 100, BookFacts((g,) if g else (), language, rating))
        for n, g in enumerate(genres)
    ]


def ids(items: list[Ranked]) -> list[str]:
    return [i.item_id for i in items]


def test_genre_cap_moves_the_fourth_fantasy_below_the_window() -> None:
    items = books("fantasy", "fantasy", "fantasy", "fantasy", "fantasy", "crime", "", "poetry")
    outcome = MaxPerGenreRule(limit=3, window=5).apply(items, ListContext(k=10))
    assert ids(outcome.items) == ["b0", "b1", "b2", "b5", "b6", "b3", "b4", "b7"]
    assert not MaxPerGenreRule(3, 5).violated(outcome.items)
    assert MaxPerGenreRule(3, 5).violated(items)
    assert Move("b3", "max_per_genre", 4, 6) in outcome.moves
    assert Move("b5", "max_per_genre", 6, 4) in outcome.moves
    assert "moved below the top 5 by max_per_genre" in outcome.items[5].reason
    assert not outcome.relaxations


def test_genre_cap_relaxes_visibly_when_every_candidate_shares_the_genre() -> None:
    items = books("fantasy", "fantasy", "fantasy", "fantasy", "fantasy", "romance")
    outcome = MaxPerGenreRule(limit=3, window=5).apply(items, ListContext(k=5))
    assert ids(outcome.items) == ["b0", "b1", "b2", "b5", "b3", "b4"]  # nothing dropped
    assert len(outcome.relaxations) == 1
    assert "position 5 holds a fantasy book" in outcome.relaxations[0].detail


def test_exclude_read_removes_read_books_and_records_it() -> None:
    items = books("a", "b", "c", "d", "e")
    outcome = ExcludeReadRule().apply(items, ListContext(k=2, read=frozenset({"b1", "b3"})))
    assert ids(outcome.items) == ["b0", "b2", "b4"]
    assert outcome.moves == [Move("b1", "exclude_read", 2, None)]  # b3 was below the top k
    assert not outcome.relaxations


def test_a_filter_short_of_k_keeps_the_best_failing_books_and_says_so() -> None:
    items = books("a", "b", "c", "d")
    outcome = ExcludeReadRule().apply(items, ListContext(k=3, read=frozenset({"b0", "b1", "b2"})))
    assert ids(outcome.items) == ["b0", "b1", "b3"]
    assert outcome.moves == [Move("b2", "exclude_read", 3, None)]
    assert outcome.relaxations[0].rule == "exclude_read"
    assert "only 1 of 3 books pass; kept 2" in outcome.relaxations[0].detail
    assert "fails exclude_read" in outcome.items[0].reason


def test_language_keeps_listed_and_unknown_languages() -> None:
    items = [*books("a", language="eng"), *books("b", language="fre"), *books("c", language=None)]
    for n, item in enumerate(items):
        item.item_id = f"x{n}"
    outcome = LanguageRule(["eng"]).apply(items, ListContext(k=1))
    assert ids(outcome.items) == ["x0", "x2"]


def test_min_rating_drops_low_rated_books_only() -> None:
    items = [*books("a", rating=4.2), *books("b", rating=3.1), *books("c", rating=None)]
    for n, item in enumerate(items):
        item.item_id = f"x{n}"
    outcome = MinRatingRule(3.5).apply(items, ListContext(k=2))
    assert ids(outcome.items) == ["x0", "x2"]
    assert outcome.moves == [Move("x1", "min_rating", 2, None)]


def test_rules_run_in_order_and_collect_every_move() -> None:
    items = books("fantasy", "fantasy", "fantasy", "fantasy", "crime", "crime")
    rules = [ExcludeReadRule(), MaxPerGenreRule(2, 3)]
    outcome = apply_rules(items, rules, ListContext(k=5, read=frozenset({"b0"})))
    assert ids(outcome.items) == ["b1", "b2", "b4", "b3", "b5"]
    assert {m.rule for m in outcome.moves} == {"exclude_read", "max_per_genre"}


def series_books(*titles: str) -> list[Ranked]:
    """Books b0, b1, ... in rank order with the series facts their catalog titles give."""
    catalog = BookCatalog(
        [
            Book(f"b{n}", t, ["A"], 2000, "eng", 4.0, 10, [], None, None, None, None)
            for n, t in enumerate(titles)
        ]
    )
    facts = book_facts(catalog)
    return [Ranked(f"b{n}", 1.0 - n / 100, facts[f"b{n}"]) for n in range(len(titles))]


def reader(k: int, *titles: str) -> ListContext:
    """The list context of a reader who has read books of these titles."""
    facts = {f"read {item.item_id}": item.facts for item in series_books(*titles)}
    return ListContext.of(k, list(facts), facts)


def test_series_order_refills_a_series_places_in_reading_order() -> None:
    items = series_books(
        "Harry Potter and the Half-Blood Prince (Harry Potter, #6)",
        "Harry Potter and the Deathly Hallows (Harry Potter, #7)",
        "Dune (Dune Chronicles #1)",
        "Harry Potter and the Order of the Phoenix (Harry Potter, #5)",
        "The Tales of Beedle the Bard (Hogwarts Library, #3)",
    )
    outcome = SeriesOrderRule().apply(items, ListContext(k=4))
    assert ids(outcome.items) == ["b3", "b0", "b2", "b1", "b4"]  # #5, #6 | Dune | #7
    assert set(outcome.moves) == {
        Move("b3", "series_order", 4, 1),
        Move("b0", "series_order", 1, 2),
        Move("b1", "series_order", 2, 4),
    }
    assert "reading order" in outcome.items[0].reason
    assert not outcome.items[2].reasons  # Dune kept its place
    # #5 below the top 3 stays there: the reader may have read it
    assert ids(SeriesOrderRule().apply(items, ListContext(k=3)).items) == ids(items)


def test_series_order_moves_only_books_after_the_furthest_the_reader_has_read() -> None:
    items = series_books(
        "Harry Potter and the Deathly Hallows (Harry Potter, #7)",
        "Harry Potter and the Chamber of Secrets (Harry Potter, #2)",
        "Harry Potter and the Half-Blood Prince (Harry Potter, #6)",
    )
    context = reader(3, "Harry Potter and the Goblet of Fire (Harry Potter, #4)")
    assert dict(context.read_series) == {"harry potter": 4.0}
    outcome = SeriesOrderRule().apply(items, context)
    assert ids(outcome.items) == ["b2", "b1", "b0"]  # #6 before #7; #2 (before #4) stays put


def test_exclude_read_drops_box_sets_of_a_series_the_reader_has_read_from() -> None:
    context = reader(2, "Mockingjay (The Hunger Games, #3)")
    assert dict(context.read_series) == {"the hunger games": 3.0}
    hunger_games_box = "The Hunger Games Trilogy Boxset (The Hunger Games, #1-3)"
    harry_potter_box = "Harry Potter Boxset (Harry Potter, #1-7)"
    listed = series_books(hunger_games_box, "Catching Fire (The Hunger Games, #2)", harry_potter_box)
    # another series' box set stays
    assert ids(ExcludeReadRule().apply(listed, context).items) == ["b1", "b2"]


def test_settings_default_to_exclude_read_series_order_and_the_genre_cap() -> None:
    assert [r.name for r in make_rules(RankingSettings().rules)] == [
        "exclude_read",
        "series_order",
        "max_per_genre",
    ]
    with pytest.raises(ValidationError):
        RankingSettings.model_validate({"rules": [{"kind": "no_such_rule"}]})
    with pytest.raises(ValidationError):
        RankingSettings.model_validate({"rules": [{"kind": "language", "languages": []}]})
