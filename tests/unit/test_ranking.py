"""Ranking: similarity first, popularity second; one result per work."""

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.series import title_key
from vibeshelf.search.ranking import RankTable, edition_groups, popularity, series_in_order

MAX = 5_000_000


def book(book_id: str, ratings: int, work: str | None = None, title: str = "", author: str = "A") -> Book:
    return Book(
        book_id, title or f"title {book_id}", [author], 2000, "eng", 4.0, ratings, [], None, None, None, work
    )


def ranked(books: list[Book], hits: list[tuple[str, float]], weight: float = 0.02) -> list[str]:
    return [book_id for book_id, _ in RankTable(BookCatalog(books)).rank(hits, weight)]


def test_popularity_is_log_scaled_into_unit_interval() -> None:
    assert popularity(0, MAX) == 0.0
    assert popularity(MAX, MAX) == 1.0
    assert 0.4 < popularity(5_000, MAX) < 0.6
    assert popularity(10, 0) == 0.0


def test_clearly_more_similar_book_beats_a_far_more_popular_one() -> None:
    books = [book("obscure", 12), book("famous", MAX)]
    assert ranked(books, [("famous", 0.55), ("obscure", 0.60)]) == ["obscure", "famous"]


def test_popularity_breaks_near_ties() -> None:
    books = [book("niche", 50), book("loved", 2_000_000), book("top", MAX)]
    assert ranked(books, [("niche", 0.601), ("loved", 0.600)]) == ["loved", "niche"]


def test_weight_bounds_the_popularity_term() -> None:
    table = RankTable(BookCatalog([book("top", MAX), book("none", 0)]))
    assert table.rank([("top", 0.5), ("none", 0.5)], 0.02) == [("top", 0.52), ("none", 0.5)]


def test_order_is_sorted_and_deterministic_for_exact_ties() -> None:
    books = [book("b", 100), book("a", 100), book("c", 1), book("d", 1000)]
    order = RankTable(BookCatalog(books)).rank([("b", 0.5), ("a", 0.5), ("c", 0.7), ("d", 0.5)], 0.0)
    assert [b for b, _ in order] == ["c", "d", "a", "b"]
    scores = [s for _, s in order]
    assert scores == sorted(scores, reverse=True)


def test_editions_of_one_work_are_deduplicated_best_ranked_first() -> None:
    books = [
        book("1", 10, work="w1"),
        book("2", 10, work="w1"),
        book("3", 10, title="Dune", author="Frank Herbert"),
        book("4", 10, title="Dune (Dune Chronicles #1)", author="Frank Herbert"),
        book("5", 10),
    ]
    ordered = [("2", 0.9), ("1", 0.8), ("4", 0.7), ("3", 0.6), ("5", 0.5)]
    assert RankTable(BookCatalog(books)).dedupe(ordered, 10) == [("2", 0.9), ("4", 0.7), ("5", 0.5)]
    assert RankTable(BookCatalog(books)).dedupe(ordered, 2) == [("2", 0.9), ("4", 0.7)]


def test_editions_are_grouped_transitively_across_the_catalog() -> None:
    # 1 and 3 share a work id, 3 and 2 a title: all three are one work, whatever the rank order,
    # and even when the edition that links them (3) is not among the ranked books.
    books = [
        book("1", 10, work="w1", title="Dune", author="Frank Herbert"),
        book("2", 10, work="w2", title="Dune Messiah", author="Frank Herbert"),
        book("3", 10, work="w1", title="Dune Messiah", author="Frank Herbert"),
        book("4", 10, work="w4", title="Children of Dune", author="Frank Herbert"),
    ]
    table = RankTable(BookCatalog(books))
    assert [b for b, _ in table.dedupe([("1", 0.9), ("2", 0.8), ("3", 0.7), ("4", 0.6)], 10)] == ["1", "4"]
    assert [b for b, _ in table.dedupe([("2", 0.9), ("4", 0.8), ("1", 0.7)], 10)] == ["2", "4"]


def test_edition_groups_number_each_work_once() -> None:
    groups = edition_groups([("a", "work:1", "x|y"), ("b", "", "x|y"), ("c", "work:2", ""), ("d", "", "")])
    assert groups["a"] == groups["b"]
    assert len({groups["a"], groups["c"], groups["d"]}) == 3


def test_title_key_drops_series_suffix_and_punctuation() -> None:
    a = title_key("The Hunger Games (The Hunger Games, #1)", "Suzanne Collins")
    b = title_key("The Hunger Games", "Suzanne  Collins")
    assert a == b == "the hunger games|suzanne collins"
    assert title_key("Dune", "Frank Herbert") != title_key("Dune Messiah", "Frank Herbert")


def test_box_sets_and_companions_follow_the_books_unless_asked_for() -> None:
    books = [
        book("1", 10, title="The Hunger Games Trilogy Boxset (The Hunger Games, #1-3)", author="S"),
        book("2", 10, title="The Hunger Games: Official Illustrated Movie Companion", author="K"),
        book("3", 10, title="The Hunger Games (The Hunger Games, #1)", author="S"),
        book("4", 10, title="Catching Fire (The Hunger Games, #2)", author="S"),
        book("5", 10, title="The Hunger Games Tribute Guide", author="E"),
        book("6", 10, title="Divergent (Divergent, #1)", author="V"),
    ]
    table = RankTable(BookCatalog(books))
    ordered = [("1", 0.9), ("2", 0.8), ("3", 0.7), ("5", 0.65), ("4", 0.6), ("6", 0.5)]
    demoted = table.dedupe(ordered, 10)
    assert [i for i, _ in demoted] == ["3", "4", "6", "1", "2", "5"]
    scores = [s for _, s in demoted]
    assert scores == sorted(scores, reverse=True)
    assert [i for i, _ in table.dedupe(ordered, 3)] == ["3", "4", "6"]
    assert table.dedupe(ordered, 10, companions=True) == ordered


def test_an_omnibus_is_a_work_when_its_series_books_are_not_in_the_catalog() -> None:
    books = [book("1", 10, title="The Once and Future King (The Once and Future King #1-4)")]
    assert not RankTable(BookCatalog(books)).books["1"].companion


def test_a_series_in_the_results_reads_from_its_first_book_at_the_places_it_holds() -> None:
    table = RankTable(BookCatalog([
        book("s3", 10, title="Specials (Uglies, #3)"), book("s1", 10, title="Uglies (Uglies, #1)"),
        book("s0", 10, title="Bogus (Uglies, #0.5)"), book("x", 10, title="Brave New World"),
        book("g2", 10, title="Hunters (Gone, #2)"),
    ]))
    ordered = [("s3", 0.9), ("x", 0.8), ("s0", 0.7), ("g2", 0.6), ("s1", 0.5)]
    assert series_in_order(ordered, table.series) == [
        ("s1", 0.9), ("x", 0.8), ("s3", 0.7), ("g2", 0.6), ("s0", 0.5)  # whole books first, then extras
    ]
    assert series_in_order([("x", 0.8)], table.series) == [("x", 0.8)]
