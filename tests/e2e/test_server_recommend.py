"""End to end: recommendations and more-like-this from `vibeshelf serve` over the demo's sample."""

from __future__ import annotations

import httpx
import pyarrow.parquet as pq
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import BACKEND, Server
from vibeshelf.recommend.artifacts import load_model, recs_root
from vibeshelf.recommend.sample import SAMPLE_RATINGS_PATH
from vibeshelf.settings import Settings


def sample_reader() -> tuple[str, set[str]]:
    """The sample reader with the most ratings, and the books they rated."""
    rows = pq.read_table(SAMPLE_RATINGS_PATH).to_pylist()
    books: dict[str, set[str]] = {}
    for row in rows:
        books.setdefault(row["user_id"], set()).add(row["book_id"])
    reader = max(sorted(books), key=lambda user: len(books[user]))
    return reader, books[reader]


def wizard_search(server: Server) -> list[dict[str, str]]:
    """The search results for a Harry Potter-like vibe."""
    params = {"q": "boy wizard at a school of magic"}
    response = httpx.get(f"{server.url}/api/search", params=params)
    results: list[dict[str, str]] = response.json()["results"]
    return results


def test_health_names_the_recommender(server: Server) -> None:
    recommender = httpx.get(f"{server.url}/health").json()["recommender"]
    assert recommender["source"] == "book-crossing-goodbooks"
    assert recommender["content"] is True


def test_known_reader_gets_unseen_catalog_books(server: Server) -> None:
    reader, rated = sample_reader()
    resp = httpx.post(
        f"{server.url}/api/recommend", json={"user_id": reader, "cutoff": 10}, headers=BACKEND
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["strategy"] == "als"
    books = body["recommendations"]
    assert len(books) == 10
    assert not {b["book_id"] for b in books} & rated
    for book in books:
        assert 0.0 <= book["score"] <= 1.0 and book["reason"] and book["title"]
        assert httpx.get(f"{server.url}/books/{book['book_id']}").status_code == 200


def test_unknown_reader_gets_popular_books(server: Server) -> None:
    body = httpx.post(
        f"{server.url}/api/recommend", json={"user_id": "nobody-at-all"}, headers=BACKEND
    ).json()
    assert body["strategy"] == "popular"
    assert len(body["recommendations"]) == 10


def test_liked_books_session_folds_in(server: Server) -> None:
    ids = [r["book_id"] for r in wizard_search(server)[:2]]
    body = httpx.post(f"{server.url}/api/recommend", json={"liked": ids, "cutoff": 5}).json()
    assert body["strategy"] == "fold-in"
    assert len(body["recommendations"]) == 5
    assert not {b["book_id"] for b in body["recommendations"]} & set(ids)


def cache_hits(server: Server) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "vibeshelf_recommend_cache_lookups"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels == {"layer": "memory", "result": "hit"}
    )


def test_the_same_request_again_is_answered_from_the_cache(server: Server) -> None:
    ids = [r["book_id"] for r in wizard_search(server)[2:4]]
    hits = cache_hits(server)
    first, again = (
        httpx.post(f"{server.url}/api/recommend", json={"liked": ids, "cutoff": 7}).json()
        for _ in range(2)
    )
    assert (first["cached"], again["cached"]) == (False, True)
    assert first["recommendations"] == again["recommendations"]
    assert cache_hits(server) == hits + 1


def test_similar_mixes_readers_and_text_with_reasons(server: Server) -> None:
    """CF neighbours say "readers of X also liked"; text neighbours name the shelves they share."""
    book_id = wizard_search(server)[0]["book_id"]
    body = httpx.get(f"{server.url}/api/books/{book_id}/similar", params={"limit": 10}).json()
    assert body["book"]["book_id"] == book_id
    by_source: dict[str, list[dict[str, str]]] = {}
    for book in body["similar"]:
        by_source.setdefault(book["source"], []).append(book)
    assert set(by_source) == {"item-item", "content"}
    assert book_id not in {b["book_id"] for b in body["similar"]}
    model = load_model(recs_root(Settings(data_dir=server.data_dir)))
    assert model.counts[model.item_index[book_id]] > 0  # the reasons below are for a read book
    title = body["book"]["title"]
    assert all(b["reason"] == f"readers of {title} also liked" for b in by_source["item-item"])
    shelves = dict(zip(model.items.ids, model.items.shelves, strict=True))
    for book in by_source["content"]:
        shared = set(shelves[book_id]) & set(shelves[book["book_id"]])
        if not shared:  # text alike, no shelf in common
            assert book["reason"] == f"reads like {title}"
            continue
        assert book["reason"].startswith("similar shelves: "), book["reason"]
        named = book["reason"].removeprefix("similar shelves: ").split(", ")
        assert len(named) == min(3, len(shared)) and set(named) <= shared
    assert any(b["reason"].startswith("similar shelves: ") for b in by_source["content"])


def test_unknown_book_pages_are_404(server: Server) -> None:
    assert httpx.get(f"{server.url}/books/no-such-book").status_code == 404
    resp = httpx.get(f"{server.url}/api/books/no-such-book/similar")
    assert resp.status_code == 404 and resp.json()["code"] == 404
