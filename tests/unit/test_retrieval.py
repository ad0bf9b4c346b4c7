"""The candidate stage: merging sources' proposals, the registry, and the taste sources on a tiny model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.items import ItemTable
from vibeshelf.recommend.retrieval import SOURCES, Retrieval, SourceContext, build_retrieval
from vibeshelf.recommend.retrieval_eval import CandidateEvaluation, SourceRecall
from vibeshelf.recommend.sources import Candidate, CandidateSource, Profile
from vibeshelf.recommend.taste import GenrePopular, LikedVectors, most_liked_first

GENRES = [["fantasy"], ["fantasy", "romance"], ["mystery"], ["romance"], ["fantasy"], []]
COUNTS = [10, 8, 6, 4, 2, 1]


def tiny_model() -> RecsModel:
    """Six books, two readers: u1 read b1 (and b3), u2 read b3."""
    n = len(GENRES)
    ids = [f"b{i + 1}" for i in range(n)]
    return RecsModel(
        users=["u1", "u2"],
        items=ItemTable(ids, ids, [[] for _ in ids], [[] for _ in ids], GENRES),
        user_factors=np.ones((2, 2), np.float32),
        item_factors=np.ones((n, 2), np.float32),
        seen=sp.csr_matrix(np.array([[1, 0, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0]], np.float32)),
        counts=np.array(COUNTS),
        metadata={"params": {"regularization": 1.0, "alpha": 1.0}},
    )


class Fixed(CandidateSource):
    """A source that proposes a fixed list, or nothing (None)."""

    def __init__(self, model: RecsModel, ranked: list[tuple[str, float]] | None) -> None:
        super().__init__(model)
        self.ranked = ranked

    strategy = "fixed"

    def _rank(self, profile: Profile, excluded: np.ndarray, n: int) -> list[Candidate] | None:
        if self.ranked is None:
            return None
        return [Candidate(i, s) for i, s in self.ranked[:n]]


def test_proposals_keep_every_proposing_source_with_its_score_and_rank() -> None:
    model = tiny_model()
    retrieval = Retrieval(
        [
            ("a", Fixed(model, [("b2", 0.9), ("b4", 0.8), ("b5", 0.1)]), 10),
            ("b", Fixed(model, [("b5", 0.7), ("b2", 0.6)]), 10),
        ],
        total=10,
    )
    proposals = retrieval.propose(Profile())
    assert [p.item_id for p in proposals] == ["b2", "b5", "b4"]  # rank 1s in source order, then 2s
    by_id = {p.item_id: p for p in proposals}
    assert by_id["b2"].scores == {"a": 0.9, "b": 0.6} and by_id["b2"].ranks == {"a": 1, "b": 2}
    assert by_id["b5"].scores == {"a": 0.1, "b": 0.7} and by_id["b5"].ranks == {"a": 3, "b": 1}
    assert by_id["b4"].ranks == {"a": 2}


def test_per_source_n_and_total_cap() -> None:
    model = tiny_model()
    a = Fixed(model, [("b1", 0.9), ("b2", 0.8), ("b3", 0.7)])
    b = Fixed(model, [("b4", 0.9), ("b5", 0.8), ("b6", 0.7)])
    assert [p.item_id for p in Retrieval([("a", a, 2), ("b", b, 1)], 10).propose(Profile())] == [
        "b1",
        "b4",
        "b2",
    ]
    capped = Retrieval([("a", a, 3), ("b", b, 3)], total=3).propose(Profile())
    assert [p.item_id for p in capped] == ["b1", "b4", "b2"]


def test_a_source_that_cannot_personalise_proposes_nothing() -> None:
    model = tiny_model()
    retrieval = Retrieval(
        [("none", Fixed(model, None), 5), ("a", Fixed(model, [("b3", 0.5)]), 5)], 5
    )
    assert [(p.item_id, p.ranks) for p in retrieval.propose(Profile())] == [("b3", {"a": 1})]


def test_merged_order_is_deterministic_whatever_the_dict_order() -> None:
    model = tiny_model()
    lists = [[("b1", 0.5), ("b2", 0.5)], [("b2", 0.5), ("b1", 0.5)], [("b6", 0.2)]]
    retrieval = Retrieval([(str(i), Fixed(model, r), 5) for i, r in enumerate(lists)], 5)
    first = retrieval.propose(Profile())
    assert [p.item_id for p in first] == ["b1", "b2", "b6"]
    assert retrieval.propose(Profile()) == first


def test_build_retrieval_from_settings_in_their_order() -> None:
    settings = RetrievalSettings(sources={"genre-popular": 3, "popular": 2}, total=4)
    retrieval = build_retrieval(settings, SourceContext(tiny_model()))
    assert retrieval.names == ["genre-popular", "popular"] and retrieval.total == 4
    assert [n for _, _, n in retrieval.sources] == [3, 2]


def test_build_retrieval_skips_vectors_it_lacks_and_refuses_unknown_names() -> None:
    context = SourceContext(tiny_model())
    assert build_retrieval(RetrievalSettings(sources={"liked-vectors": 5}), context).names == []
    with pytest.raises(ValueError, match="unknown candidate source.*two-tower"):
        build_retrieval(RetrievalSettings(sources={"two-tower": 5}), context)
    assert {"als", "item-item", "liked-vectors", "genre-popular", "popular"} <= set(SOURCES)


def test_settings_need_a_source() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RetrievalSettings(sources={})
    with pytest.raises(ValueError):
        RetrievalSettings(sources={"als": 0})


def test_genre_popular_ranks_popular_books_in_the_readers_genres() -> None:
    source = GenrePopular(tiny_model())
    result = source.personalised(Profile(liked=("b5",)), 10)  # a fantasy reader
    assert result is not None
    assert [c.item_id for c in result.candidates] == ["b1", "b2"]  # fantasy, most read first
    assert result.candidates[0].shared == ("fantasy",)
    assert all(0 < c.score <= 1 for c in result.candidates)


def test_genre_popular_weighs_the_history_and_excludes_it() -> None:
    source = GenrePopular(tiny_model())
    result = source.personalised(Profile(user_id="u1"), 10)  # read b1 (fantasy), b3 (mystery)
    assert result is not None
    ids = [c.item_id for c in result.candidates]
    assert {"b1", "b3"}.isdisjoint(ids) and "b6" not in ids  # read, and no genre at all
    assert ids == ["b2", "b5"]  # fantasy books; b4 is romance only


def test_genre_popular_cannot_personalise_without_genres() -> None:
    source = GenrePopular(tiny_model())
    assert source.personalised(Profile(liked=("b6",)), 5) is None
    assert source.personalised(Profile(user_id="stranger"), 5) is None
    assert source.recommend(Profile(liked=("b6",)), 2).strategy == "popular"


def test_liked_vectors_anchor_on_the_highest_rated_books_first() -> None:
    model = tiny_model()
    strengths = sp.csr_matrix(np.array([[0.4, 0, 1.0, 0, 0, 0], [0, 0, np.nan, 0, 0, 0]]))
    no_store: Any = None  # anchors need no store
    source = LikedVectors(model, no_store, lambda _: None, strengths, max_anchors=2)
    assert [model.items.ids[a] for a in source.anchors(Profile(user_id="u1"))] == ["b3", "b1"]
    liked_first = source.anchors(Profile(user_id="u1", liked=("b6",)))
    assert [model.items.ids[a] for a in liked_first] == ["b6", "b3"]
    unrated = LikedVectors(model, no_store, lambda _: None, None, 10)
    assert [model.items.ids[a] for a in unrated.anchors(Profile(user_id="u1"))] == ["b1", "b3"]


def test_most_liked_first_puts_implicit_last_and_breaks_ties_by_item() -> None:
    items = np.array([5, 2, 9, 1])
    assert most_liked_first(items, np.array([0.6, np.nan, 0.6, 1.0])).tolist() == [1, 5, 9, 2]


def candidate_evaluation(merged_recall: float) -> CandidateEvaluation:
    return CandidateEvaluation(
        source="s",
        data="3 users",
        split="split",
        settings="settings",
        rows=[
            SourceRecall("als", 2, 0.30, 2.0, 1.0, 0.40),
            SourceRecall("popular", 1, 0.10, 1.0, 1.0, 0.20),
            SourceRecall("merged", 3, merged_recall, 3.0, 1.0),
        ],
    )


def test_the_candidate_table_says_whether_the_merge_beats_every_source() -> None:
    table = candidate_evaluation(0.45).table()
    assert "| als | 2 | 0.3000 | 0.4000 | 2.0 | 100.0% |" in table
    assert "| merged | 3 | 0.4500 | - | 3.0 | 100.0% |" in table
    assert "beats every source at its own N; beats every source given the whole budget" in table
    short = candidate_evaluation(0.35).verdict()
    assert "beats every source at its own N" in short
    assert "does NOT beat every source given the whole budget of 3 (best: als 0.4000)" in short
    assert "does NOT beat every source at its own N" in candidate_evaluation(0.2).verdict()
