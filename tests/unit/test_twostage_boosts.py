"""Boosts: each adds at most its delta, to the books it applies to, and names itself in the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vibeshelf.config.ranking import DescriptionBoost, PromotedBoost, RankingSettings, RecentBoost
from vibeshelf.recommend.twostage.books import BookFacts
from vibeshelf.recommend.twostage.boosts import (
    HasDescription,
    Promoted,
    Recent,
    apply_boosts,
    make_boosts,
)
from vibeshelf.recommend.twostage.ranked import ListContext, Ranked


def listing() -> list[Ranked]:
    return [
        Ranked("old", 0.9, BookFacts(year=1990, has_description=False)),
        Ranked("new", 0.8, BookFacts(year=2015, has_description=True)),
        Ranked("undated", 0.7, BookFacts(year=None, has_description=True)),
    ]


def test_recent_lifts_only_recent_books_by_its_delta() -> None:
    out = apply_boosts(listing(), [Recent(0.2, since=2010)], ListContext(k=3))
    assert [i.item_id for i in out] == ["new", "old", "undated"]
    assert out[0].score == pytest.approx(1.0)
    assert out[0].reason == "+0.2 recent (published 2015, since 2010)"
    assert out[1].score == 0.9 and out[1].reason == ""


def test_promoted_reads_the_list_file(tmp_path: Path) -> None:
    (tmp_path / "promo.txt").write_text("# this week\nundated\n\n")
    (boost,) = make_boosts([PromotedBoost(file="promo.txt", delta=0.25)], tmp_path)
    assert isinstance(boost, Promoted) and boost.books == frozenset({"undated"})
    out = apply_boosts(listing(), [boost], ListContext(k=3))
    assert [i.item_id for i in out] == ["undated", "old", "new"]
    assert out[0].reason == "+0.25 promoted"


def test_a_missing_promoted_file_promotes_nothing(tmp_path: Path) -> None:
    (boost,) = make_boosts([PromotedBoost(file="absent.txt")], tmp_path)
    out = apply_boosts(listing(), [boost], ListContext(k=3))
    assert [i.score for i in out] == [0.9, 0.8, 0.7]


def test_description_boost_applies_to_thin_histories_only() -> None:
    boost = HasDescription(0.15, max_history=3)
    thin = apply_boosts(listing(), [boost], ListContext(k=3, history_size=2))
    assert [i.item_id for i in thin] == ["new", "old", "undated"]
    assert thin[0].reason == "+0.15 has_description"
    rich = apply_boosts(listing(), [boost], ListContext(k=3, history_size=10))
    assert [i.score for i in rich] == [0.9, 0.8, 0.7]


def test_boosts_are_bounded_in_the_settings() -> None:
    parsed = RankingSettings.model_validate(
        {"boosts": [{"kind": "recent", "since": 2012}, {"kind": "has_description"}]}
    ).boosts
    assert isinstance(parsed[0], RecentBoost) and parsed[0].since == 2012
    assert isinstance(parsed[1], DescriptionBoost)
    with pytest.raises(ValidationError):
        RankingSettings.model_validate({"boosts": [{"kind": "recent", "delta": 0.8}]})
