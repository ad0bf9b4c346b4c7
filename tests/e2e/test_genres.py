"""Canonical genres over HTTP against a real `vibeshelf serve`: the list, the `genre=` filter on
the API and the page, the cards that show them, and a clear refusal of a genre the catalog lacks."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pyarrow.parquet as pq

from tests.conftest import Server
from vibeshelf.settings import Settings

HTML = {"Accept": "text/html,application/xhtml+xml"}
GENRE_LINK = re.compile(r'<a class="[^"]*\bgenre"[^>]*>([^<]+)</a>')


def catalog_genres(server: Server) -> dict[str, list[str]]:
    books = pq.read_table(Settings(data_dir=server.data_dir).books_path, columns=["book_id", "genres"])
    return dict(zip(books["book_id"].to_pylist(), books["genres"].to_pylist(), strict=True))


def test_the_genre_list_counts_the_catalog_s_books(server: Server) -> None:
    body = httpx.get(f"{server.url}/api/genres").raise_for_status().json()
    listed = {g["name"]: g["books"] for g in body["genres"]}
    genres = catalog_genres(server).values()
    assert listed["fantasy"] == sum("fantasy" in g for g in genres) > 0
    assert listed == {name: sum(name in g for g in genres) for name in listed}
    counts = [g["books"] for g in body["genres"]]
    assert counts == sorted(counts, reverse=True)


def test_the_genre_filter_keeps_only_books_of_that_genre(server: Server) -> None:
    query = {"q": "a spooky old house", "limit": 20}
    genres = catalog_genres(server)
    unfiltered = httpx.get(f"{server.url}/api/search", params=query).json()["results"]
    assert any("cozy mystery" not in genres[r["book_id"]] for r in unfiltered)  # work to do
    for mode in ("vector", "lexical", "hybrid"):
        params = {**query, "genre": "Cozy Mystery", "mode": mode}
        results = httpx.get(f"{server.url}/api/search", params=params).json()["results"]
        assert results, mode
        assert all("cozy mystery" in genres[r["book_id"]] for r in results), mode
        assert all(r["genres"] == genres[r["book_id"]] for r in results)


def test_an_unknown_genre_is_a_422_that_says_where_the_genres_are(server: Server) -> None:
    resp = httpx.get(f"{server.url}/api/search", params={"q": "dragons", "genre": "sci-fi"})
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/json"
    assert resp.json()["description"] == (
        "unknown genre 'sci-fi': name one of the catalog's genres (GET /api/genres)"
    )
    page = httpx.get(server.url + "/", params={"q": "dragons", "genre": "sci-fi"}, headers=HTML)
    assert page.status_code == 422 and 'id="form-error"' in page.text
    assert "unknown genre &#39;sci-fi&#39;" in page.text


def test_cards_show_the_book_s_most_specific_genres_and_link_to_the_filter(server: Server) -> None:
    params = {"q": "cozy village mystery", "genre": "cozy mystery"}
    page = httpx.get(server.url + "/", params=params).raise_for_status().text
    ranked = httpx.get(f"{server.url}/api/search", params={**params, "limit": 10}).json()["results"]
    genres = catalog_genres(server)
    cards = re.findall(r'<div class="mb-1 small genres">(.*?)</div>', page, flags=re.DOTALL)
    assert cards and len(cards) == len(ranked)
    for result, card in zip(ranked, cards, strict=True):
        book = genres[result["book_id"]]
        shown = GENRE_LINK.findall(card.split("<details")[0])
        behind_more = GENRE_LINK.findall(card)[len(shown):]
        assert [unescape(g) for g in shown] == book[:4]
        assert [unescape(g) for g in behind_more] == book[4:]
    assert '<option value="cozy mystery" selected>' in page
    assert "Matches genre: cozy mystery, mystery" in page or "Matches genre: mystery, cozy mystery" in page
    assert "genre=cozy%20mystery" in page
