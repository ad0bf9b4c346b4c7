"""The cosine of two books' most specific canonical genres, rare genres weighing more."""

from __future__ import annotations

import numpy as np
import pytest

from vibeshelf.search.genre_likeness import COMPARED, GenreLikeness


def test_rare_shared_genres_count_more_than_common_ones() -> None:
    likeness = GenreLikeness(
        ["hobbit", "eragon", "gatsby", "bare", "other1", "other2"],
        [
            ["dragons", "fantasy", "fiction"],
            ["dragons", "young adult", "fiction"],
            ["modern classics", "fiction"],
            [],
            ["fantasy", "fiction"],
            ["young adult", "fiction"],
        ],
    )
    eragon, gatsby, bare, unknown = likeness.to("hobbit", ["eragon", "gatsby", "bare", "unknown"])
    assert eragon > gatsby > 0.0  # dragons (2 books) outweighs fiction (5 books)
    assert bare == 0.0 and unknown == 0.0
    assert likeness.to("hobbit", ["hobbit"])[0] == pytest.approx(1.0)
    assert likeness.to("bare", ["hobbit"]).tolist() == [0.0]


def test_only_the_most_specific_genres_are_compared() -> None:
    tail = ["a", "b", "c", "d", "e"][:COMPARED]
    likeness = GenreLikeness(["x", "y", "z"], [[*tail, "shared"], [*"vwxyz", "shared"], ["q"]])
    assert np.allclose(likeness.to("x", ["y", "z"]), 0.0)  # "shared" lies past the compared ones


def test_a_catalog_without_genres_makes_every_book_unlike() -> None:
    likeness = GenreLikeness(["1", "2"], [[], []])
    assert likeness.to("1", ["2"]).tolist() == [0.0]
