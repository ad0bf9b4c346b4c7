"""Ranking: similarity first, popularity second; one result per work."""

from vibeshelf.search.ranking import Candidate, popularity, rank, rank_score, title_key

MAX = 5_000_000


def cand(book_id: str, sim: float, count: int, work: str = "", title: str = "") -> Candidate:
    return Candidate(book_id, sim, count, work or f"w{book_id}", title or f"t{book_id}")


def test_popularity_is_log_scaled_into_unit_interval() -> None:
    assert popularity(0, MAX) == 0.0
    assert popularity(MAX, MAX) == 1.0
    assert 0.4 < popularity(5_000, MAX) < 0.6
    assert popularity(10, 0) == 0.0


def test_clearly_more_similar_book_beats_a_far_more_popular_one() -> None:
    obscure = cand("obscure", 0.60, 12)
    famous = cand("famous", 0.55, MAX)
    assert [c.book_id for c, _ in rank([famous, obscure], MAX, 0.02)] == ["obscure", "famous"]


def test_popularity_breaks_near_ties() -> None:
    niche = cand("niche", 0.601, 50)
    loved = cand("loved", 0.600, 2_000_000)
    assert [c.book_id for c, _ in rank([niche, loved], MAX, 0.02)] == ["loved", "niche"]


def test_weight_bounds_the_popularity_term() -> None:
    assert rank_score(0.5, MAX, MAX, 0.02) == 0.52
    assert rank_score(0.5, 0, MAX, 0.02) == 0.5


def test_order_is_sorted_and_deterministic_for_exact_ties() -> None:
    items = [cand("b", 0.5, 100), cand("a", 0.5, 100), cand("c", 0.7, 1), cand("d", 0.5, 1000)]
    ranked = rank(items, MAX, 0.02)
    assert [c.book_id for c, _ in ranked] == ["c", "d", "a", "b"]
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)


def test_editions_of_one_work_are_deduplicated() -> None:
    items = [
        cand("1", 0.9, 10, work="w1"),
        cand("2", 0.8, 10, work="w1"),
        cand("3", 0.7, 10, title="dune|frank herbert"),
        cand("4", 0.6, 10, title="dune|frank herbert"),
        cand("5", 0.5, 10),
    ]
    assert [c.book_id for c, _ in rank(items, MAX, 0.02)] == ["1", "3", "5"]


def test_editions_are_grouped_transitively_whatever_the_rank_order() -> None:
    # 1 and 3 share a work id, 3 and 2 a title: all three are one work, even though 2 outranks 3.
    items = [
        cand("1", 0.9, 10, work="w1", title="dune|frank herbert"),
        cand("2", 0.8, 10, work="w2", title="dune messiah|frank herbert"),
        cand("3", 0.7, 10, work="w1", title="dune messiah|frank herbert"),
        cand("4", 0.6, 10, work="w4", title="children of dune|frank herbert"),
    ]
    assert [c.book_id for c, _ in rank(items, MAX, 0.02)] == ["1", "4"]


def test_title_key_drops_series_suffix_and_punctuation() -> None:
    a = title_key("The Hunger Games (The Hunger Games, #1)", "Suzanne Collins")
    b = title_key("The Hunger Games", "Suzanne  Collins")
    assert a == b == "the hunger games|suzanne collins"
    assert title_key("Dune", "Frank Herbert") != title_key("Dune Messiah", "Frank Herbert")
