"""The shelves a card shows: near-duplicates collapsed, rarest first, singletons last."""

from __future__ import annotations

import pytest

from vibeshelf.catalog.telling_shelves import pick_shelves, shelf_key


@pytest.mark.parametrize("same", [
    ["sci-fi", "scifi", "science-fiction", "sciencefiction", "sf", "science_fiction"],
    ["ya", "young-adult", "young-adults", "ya-books", "young-adult-fiction"],
    ["mystery", "mysteries", "genre-mystery"],
    ["fantasy-sci-fi", "sci-fi-and-fantasy", "science-fiction-fantasy", "scifi-fantasy"],
    ["children-s-books", "childrens-books", "children-s-literature", "childrens"],
    ["historical-fiction", "historic-fiction", "historical"],
    ["graphic-novels", "graphic-novel"],
    ["fantasy-humor", "fantasy-humour", "humorous-fantasy"],
])
def test_near_duplicates_share_a_key(same: list[str]) -> None:
    assert len({shelf_key(s) for s in same}) == 1, {s: shelf_key(s) for s in same}


@pytest.mark.parametrize("apart", [
    ["science-fiction", "science", "non-fiction-science"],
    ["fiction", "non-fiction", "fantasy"],
    ["young-adult", "adult", "new-adult"],
    ["classics", "class"],
])
def test_different_shelves_keep_apart(apart: list[str]) -> None:
    assert len({shelf_key(s) for s in apart}) == len(apart), {s: shelf_key(s) for s in apart}


COUNTS = {"fiction": 900, "fantasy": 400, "sci-fi": 300, "scifi": 40, "science-fiction": 250,
          "dragons": 30, "dragon": 12, "young-adult": 500, "ya": 450, "cozy-mystery": 8,
          "one-off": 1}


def test_rarest_first_one_spelling_per_group_and_the_rest_on_demand() -> None:
    book = ["dragon", "dragons", "fantasy", "fiction", "one-off", "sci-fi", "science-fiction",
            "scifi", "ya", "young-adult", "cozy-mystery"]
    picks = pick_shelves(book, COUNTS, shown=4)
    # groups: dragons (30), fantasy (400), fiction (900), sci-fi (300), young-adult (500),
    # cozy-mystery (8), one-off (1 book: last)
    assert picks.shown == ["cozy-mystery", "dragons", "sci-fi", "fantasy"]
    assert picks.more == ["young-adult", "fiction", "one-off"]


def test_few_shelves_are_all_shown() -> None:
    picks = pick_shelves(["fiction", "fantasy"], COUNTS)
    assert picks.shown == ["fantasy", "fiction"]
    assert picks.more == []


def test_shelves_unknown_to_the_counts_go_last() -> None:
    picks = pick_shelves(["brand-new", "fantasy"], COUNTS, shown=1)
    assert picks.shown == ["fantasy"]
    assert picks.more == ["brand-new"]
