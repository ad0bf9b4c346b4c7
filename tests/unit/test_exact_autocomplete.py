"""Exact title/author matching and search-box completions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.search.autocomplete import Autocomplete, PopularQueries
from vibeshelf.search.exact import ExactMatcher


def book(book_id: str, title: str, authors: list[str], ratings: int, shelves: list[str]) -> Book:
    return Book(book_id, title, authors, 2000, "eng", 4.0, ratings, shelves, None, None, None, None)


BOOKS = [
    book("1", "The Road", ["Cormac McCarthy"], 500, ["post-apocalyptic"]),
    book("2", "On the Road", ["Jack Kerouac"], 400, ["classics", "travel"]),
    book("3", "Dune (Dune Chronicles #1)", ["Frank Herbert"], 900, ["science-fiction"]),
    book("4", "Children of Dune (Dune Chronicles #3)", ["Frank Herbert"], 100, ["science-fiction"]),
    book("5", "Cozy Corner", ["Ann Author"], 5, ["cozy-mystery"]),
]


def test_exact_title_ignores_case_punctuation_series_and_leading_article() -> None:
    matcher = ExactMatcher(BOOKS)
    assert matcher.match("the road") == [("1", "title")]
    assert matcher.match("Road") == [("1", "title")]
    assert matcher.match("DUNE!") == [("3", "title")]
    assert matcher.match("road trip") == []


def test_exact_author_lists_their_books_most_rated_first() -> None:
    assert ExactMatcher(BOOKS).match("frank herbert") == [("3", "author"), ("4", "author")]


def test_promotion_puts_kept_matches_on_top_at_the_top_score() -> None:
    matcher = ExactMatcher(BOOKS)
    ordered = [("2", 0.9), ("4", 0.7), ("1", 0.5)]
    assert matcher.promote("frank herbert", ordered, None) == (
        [("3", 0.9), ("4", 0.9), ("2", 0.9), ("1", 0.5)],
        {"3": "author", "4": "author"},
    )
    assert matcher.promote("frank herbert", ordered, lambda i: i != "3") == (
        [("4", 0.9), ("2", 0.9), ("1", 0.5)],
        {"4": "author"},
    )
    assert matcher.promote("road trip", ordered, None) == (ordered, {})


def test_completions_match_word_starts_and_rank_whole_prefixes_first() -> None:
    auto = Autocomplete(BookCatalog(BOOKS))
    assert [s.text for s in auto.suggest("ro")] == ["The Road", "On the Road"]  # by ratings
    assert [s.text for s in auto.suggest("on the")] == ["On the Road"]
    assert [s.text for s in auto.suggest("herb")] == ["Frank Herbert"]
    # A shelf weighs its share of the biggest shelf; a book its share of the most ratings.
    assert [(s.text, s.kind) for s in auto.suggest("cozy")] == [
        ("cozy mystery", "shelf"), ("Cozy Corner", "title")
    ]
    assert [s.text for s in auto.suggest("science")] == ["science fiction"]
    assert auto.suggest("  ") == []
    assert len(auto.suggest("d", limit=1)) == 1


def test_logged_queries_become_completions_once_popular(tmp_path: Path) -> None:
    log = tmp_path / "queries.jsonl"
    auto = Autocomplete(BookCatalog(BOOKS), PopularQueries(log))
    assert [s.kind for s in auto.suggest("road")] == ["title", "title"]  # no log yet

    def search(query: str, results: list[str], session: str | None) -> None:
        with log.open("a") as fh:
            fh.write(json.dumps({"query": query, "results": results, "session": session}) + "\n")

    for _ in range(5):  # one session repeating a search does not make it popular
        search("road trip novels", ["2"], "s1")
    search("road trip novels", ["2"], None)  # nor do searches without a returning session
    assert "road trip novels" not in [s.text for s in auto.suggest("road")]
    search("Road trip novels", ["2"], "s2")
    search("road trip novels", ["2"], "s3")
    for session in ("s1", "s2", "s3"):
        search("road to nowhere", [], session)  # no results: never suggested
    with log.open("a") as fh:
        fh.write('{"query": "half a li')  # a line still being written is left for later
    found = auto.suggest("road")
    assert (found[0].text, found[0].kind) == ("road trip novels", "query")
    assert "road to nowhere" not in [s.text for s in found]


@pytest.mark.parametrize(
    "query",
    ["buy cheap pills at evil.example", "road deals https://x.test/a", "road mail me@host.org",
     "road www.shop", "road pills.shop.example now"],
)
def test_link_like_queries_are_never_suggested(tmp_path: Path, query: str) -> None:
    log = tmp_path / "queries.jsonl"
    log.write_text("".join(
        json.dumps({"query": query, "results": ["2"], "session": f"s{i}"}) + "\n" for i in range(10)
    ))
    auto = Autocomplete(BookCatalog(BOOKS), PopularQueries(log))
    assert not [s for s in auto.suggest(query.split()[0]) if s.kind == "query"]
