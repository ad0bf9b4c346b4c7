"""Query understanding through the app: /api/search says what it understood, the page says it too."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_cli
from vibeshelf.catalog.series import title_key
from vibeshelf.search.schemas import SearchParams
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

BOOK_ID, TITLE = "5", "The Great Gatsby"  # a sample book


@pytest.fixture(scope="module")
def client(sample_data_dir: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=sample_data_dir, auth={"enabled": False})
    settings.serve.query_log = False
    with TestClient(create_app(settings)) as client:
        yield client


def test_books_like_a_sample_book_returns_its_neighbours_not_itself(client: TestClient) -> None:
    resp = client.get("/api/search", params={"q": "books like the great gatsbi", "limit": 20})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["interpreted"]["kind"] == "like_book"
    assert (body["interpreted"]["book_id"], body["interpreted"]["title"]) == (BOOK_ID, TITLE)
    results = body["results"]
    assert len(results) == 20
    assert all(title_key(r["title"], "") != title_key(TITLE, "") for r in results)
    plain = client.get("/api/search", params={"q": "the great gatsby", "limit": 20}).json()
    assert plain["interpreted"]["kind"] == "title" and plain["results"][0]["book_id"] == BOOK_ID


def test_steering_words_change_the_neighbours(client: TestClient) -> None:
    def ids(q: str) -> list[str]:
        return [r["book_id"] for r in client.get("/api/search", params={"q": q}).json()["results"]]

    assert ids("books like The Great Gatsby but with dragons and wizards") != ids("books like The Great Gatsby")


def test_a_vibe_query_is_interpreted_as_a_vibe(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "Hi! I'm looking for cozy small-town mystery with a cat"}).json()
    assert body["interpreted"] == {
        "kind": "vibe", "book_id": None, "title": None, "author": None, "series": None,
        "vibe": "cozy small-town mystery with a cat", "dropped": ["Hi!", "I'm looking for"], "added": [],
    }
    funny = client.get("/api/search", params={"q": "funny sci-fi"}).json()["interpreted"]
    assert (funny["kind"], funny["vibe"]) == ("vibe", "funny sci-fi") and "humor" in funny["added"]
    assert body["results"]


def test_an_authors_books_come_most_read_first(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "something by rowling"}).json()
    assert (body["interpreted"]["kind"], body["interpreted"]["author"]) == ("author", "J.K. Rowling")
    results = body["results"]
    assert results and all("J.K. Rowling" in r["authors"] for r in results)
    counts = [r["ratings_count"] for r in results]
    assert counts == sorted(counts, reverse=True)


def test_the_page_says_which_book_it_shows_books_like(client: TestClient) -> None:
    page = client.get("/", params={"q": "similar to the great gatsby"})
    assert page.status_code == 200
    assert f"Showing books like <em>{TITLE}</em>" in page.text
    vibe = client.get("/", params={"q": "cozy mystery"})
    assert "Showing books like" not in vibe.text and 'id="interpreted"' not in vibe.text
    mood = client.get("/", params={"q": "funny sci-fi"})
    assert "Also searching for humor, hilarious, comedy, witty, satire" in mood.text


class CoReadByHand:
    """Co-read neighbours given by hand: the book itself first (it must never come back)."""

    def __init__(self, neighbours: list[str]) -> None:
        self.neighbours = neighbours

    def co_read(self, book_id: str, limit: int) -> list[str]:
        return [book_id, *self.neighbours][:limit]


def test_co_read_neighbours_join_a_books_neighbours(client: TestClient) -> None:
    search = client.app.state.services.runtime.search
    unlike = "34"  # Fifty Shades of Grey: no content neighbour of The Great Gatsby
    before = client.get("/api/search", params={"q": "books like the great gatsby", "limit": 20}).json()
    assert unlike not in [r["book_id"] for r in before["results"]]
    # genres apart: Fifty Shades shares none with Gatsby, and genre agreement is tested below
    kept, search.co_readers = search.co_readers, CoReadByHand([unlike])
    settings, search.settings = search.settings, search.settings.model_copy(update={"like_genre_weight": 0.0})
    try:
        after = client.get("/api/search", params={"q": "books like the great gatsby", "limit": 20}).json()
    finally:
        search.co_readers, search.settings = kept, settings
    ids = [r["book_id"] for r in after["results"]]
    assert unlike in ids and BOOK_ID not in ids


def test_the_cli_says_what_it_read_the_query_as(sample_data_dir: Path) -> None:
    out = run_cli("search", "books like the great gatsby", "--limit", "3", data_dir=sample_data_dir)
    assert f"read as like book: {TITLE}" in out.stderr
    assert TITLE not in out.stdout and len(out.stdout.strip().splitlines()) == 3
    vibe = run_cli("search", "funny sci-fi", "--limit", "3", data_dir=sample_data_dir)
    assert "read as" not in vibe.stderr


def test_a_novels_neighbours_are_not_comics(client: TestClient) -> None:
    # the sample holds The Hobbit only as its graphic novel, and Calvin and Hobbes beside it
    body = client.get("/api/search", params={"q": "books like the hobbit", "limit": 10}).json()
    assert body["interpreted"]["title"] == "The Hobbit: Graphic Novel"
    formats = {"comics", "graphic novels", "manga"}
    assert body["results"] and not [r["title"] for r in body["results"] if formats & set(r["genres"][:3])]
    watchmen = client.get("/api/search", params={"q": "books like watchmen", "limit": 5}).json()
    assert all(formats & set(r["genres"]) for r in watchmen["results"])  # a comic's are comics


def test_books_that_make_you_cry_are_not_books_titled_cry(client: TestClient) -> None:
    search = client.app.state.services.runtime.search
    crying = [b.title for b in search.catalog if "cry" in b.title.lower()]
    assert crying  # Cry, the Beloved Country; The Crying of Lot 49
    body = client.get("/api/search", params={"q": "books that make you cry", "limit": 10}).json()
    assert body["interpreted"]["dropped"] == ["make you cry"] and "heartbreaking" in body["interpreted"]["added"]
    assert len(body["results"]) == 10 and not [r for r in body["results"] if "cry" in r["title"].lower()]


def test_popularity_raises_the_well_read_neighbours(client: TestClient) -> None:
    search = client.app.state.services.runtime.search
    params = SearchParams(q="books like the great gatsby", limit=10)

    def read(weight: float) -> float:
        variant = search.with_settings(search.settings.model_copy(
            update={"like_popularity_weight": weight, "like_genre_weight": 0.0}
        ))
        return statistics.median(r.ratings_count for r in variant.search(params).results)

    assert read(0.1) > 2 * read(0.0)


def test_popularity_counts_only_up_to_the_named_books(client: TestClient) -> None:
    # The Secret History (168k ratings in the sample): books read more widely than it gain the
    # same from popularity, so more weight does not reorder them by how many read them
    search = client.app.state.services.runtime.search
    secret = search.catalog.get("494")
    assert secret is not None and secret.title == "The Secret History"

    def wider(weight: float) -> list[str]:
        variant = search.with_settings(search.settings.model_copy(
            update={"like_popularity_weight": weight, "like_genre_weight": 0.0}
        ))
        results = variant.search(SearchParams(q="books like the secret history", limit=40)).results
        return [r.book_id for r in results if r.ratings_count >= secret.ratings_count]

    light, heavy = wider(0.2), wider(1.0)
    assert len(light) >= 3 and light == [i for i in heavy if i in light]
    counts = [search.catalog.get(i).ratings_count for i in heavy]  # type: ignore[union-attr]
    assert counts != sorted(counts, reverse=True)


def test_genre_agreement_brings_neighbours_of_the_books_kind(client: TestClient) -> None:
    search = client.app.state.services.runtime.search
    gatsby = set(search.catalog.get(BOOK_ID).genres[:5])

    def shared(weight: float) -> int:
        variant = search.with_settings(search.settings.model_copy(update={"like_genre_weight": weight}))
        results = variant.search(SearchParams(q="books like the great gatsby", limit=10)).results
        return sum(len(gatsby & set(r.genres[:5])) for r in results)

    assert shared(0.05) > shared(0.0)


def test_picture_books_give_way_to_a_grown_up_mood(client: TestClient) -> None:
    def genres(q: str) -> list[list[str]]:
        return [r["genres"][:3] for r in client.get("/api/search", params={"q": q}).json()["results"]]

    assert any("picture books" in g for g in genres("a book about a dog"))  # the sample holds them
    assert not any("picture books" in g for g in genres("heartbreaking book about a dog"))
    assert any("picture books" in g for g in genres("a sad picture book about a dog for kids"))
