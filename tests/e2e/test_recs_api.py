"""The recommendation API over HTTP: a real uvicorn server on 127.0.0.1 serving a real-data model.

Its interactions store is the data dir's SQLite file, and for the events tests also a fresh
database on a real PostgreSQL server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import BACKEND, REPO, SERVER_KEYS, free_port
from tests.contracts.recommender import active_reader
from tests.postgres_server import fresh_database
from tests.processes import stop_process
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.recommend.storage.sqlite import SqliteStore


@contextmanager
def recommend_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    """`uvicorn --factory ...recommend_app:create_recommend_app` on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "VIBESHELF_DATA_DIR": str(data_dir),
        "VIBESHELF_LOG_LEVEL": "WARNING",
        "VIBESHELF_AUTH__API_KEYS": json.dumps(SERVER_KEYS),
        **(env or {}),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "vibeshelf.serve.recommend_app:create_recommend_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=BACKEND)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                output = proc.stdout.read()  # type: ignore[union-attr]
                raise AssertionError(f"server exited early:\n{output}")
            try:
                if client.get("/health").json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not become ready")
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        stop_process(proc)


@pytest.fixture(scope="module")
def api(recs_dir: Path) -> Iterator[httpx.Client]:
    """The recommend app on the data dir's SQLite interactions store."""
    with recommend_server(recs_dir) as client:
        yield client


@pytest.fixture(scope="module")
def postgres_events_url(recs_dir: Path, recs_model: RecsModel, postgres_url: str) -> str:
    """A fresh database on the loopback PostgreSQL holding the model's training source, copied
    from the data dir's SQLite store (what `vibeshelf ingest interactions` would have put there)."""
    url = fresh_database(postgres_url)
    sqlite = SqliteStore(recs_dir / "events.sqlite3")
    postgres = open_interactions(url, recs_dir)
    try:
        info = sqlite.source(str(recs_model.metadata["source"]))
        postgres.replace_source(info, sqlite.read(info.name))
    finally:
        sqlite.close()
        postgres.close()
    return url


@pytest.fixture(scope="module")
def postgres_api(recs_dir: Path, postgres_events_url: str) -> Iterator[httpx.Client]:
    """The recommend app with VIBESHELF_RECOMMEND__EVENTS_URL on that database."""
    env = {"VIBESHELF_RECOMMEND__EVENTS_URL": postgres_events_url}
    with recommend_server(recs_dir, env) as client:
        yield client


def last_active_reader(model: RecsModel, min_items: int = 7) -> str:
    """The last model user with `min_items` training items: one the SQLite tests leave alone."""
    return model.users[int(np.flatnonzero(np.diff(model.seen.indptr) >= min_items)[-1])]


def rated_by(model: RecsModel, user: str) -> set[str]:
    return {model.items.ids[i] for i in model.user_items(model.user_index[user])}


def check_books(recommendations: list[dict[str, object]], model: RecsModel) -> None:
    for book in recommendations:
        assert book["book_id"] in model.item_index
        assert (
            book["title"] and isinstance(book["authors"], list) and isinstance(book["genres"], list)
        )
        assert 0.0 <= book["score"] <= 1.0  # type: ignore[operator]
        assert book["reason"]


def test_known_reader_gets_als_without_books_already_rated(
    api: httpx.Client, recs_model: RecsModel
) -> None:
    reader = active_reader(recs_model, min_items=8)
    body = api.post("/api/recommend", json={"user_id": reader, "cutoff": 15}).json()
    assert body["strategy"] == "als"
    assert body["model_version"] == recs_model.version and body["request_id"]
    books = body["recommendations"]
    assert len(books) == 15
    assert not {b["book_id"] for b in books} & rated_by(recs_model, reader)
    check_books(books, recs_model)
    assert all(b["reason"].startswith("because you read ") for b in books)
    again = api.post("/api/recommend", json={"user_id": reader, "cutoff": 15}).json()
    assert [b["book_id"] for b in again["recommendations"]] == [b["book_id"] for b in books]


def test_unknown_reader_gets_popular_books(api: httpx.Client, recs_model: RecsModel) -> None:
    body = api.post("/api/recommend", json={"user_id": "never-seen-reader", "cutoff": 5}).json()
    assert body["strategy"] == "popular"
    assert len(body["recommendations"]) == 5
    check_books(body["recommendations"], recs_model)
    assert body["recommendations"][0]["reason"].startswith("popular")


def test_anonymous_liked_books_fold_in(api: httpx.Client, recs_model: RecsModel) -> None:
    liked = ["2", "3", "18"]  # Harry Potter 1, Twilight, Harry Potter 3
    body = api.post("/api/recommend", json={"liked": liked, "cutoff": 10}).json()
    assert body["strategy"] == "fold-in"
    ids = [b["book_id"] for b in body["recommendations"]]
    assert len(ids) == 10 and not set(ids) & set(liked)
    assert any(b["reason"].startswith("because you liked ") for b in body["recommendations"])


def test_an_event_is_stored_and_shapes_the_next_recommendation(api: httpx.Client) -> None:
    reader = "e2e-new-reader"
    assert api.post("/api/recommend", json={"user_id": reader}).json()["strategy"] == "popular"
    response = api.post("/api/events", json={"user_id": reader, "book_id": "2", "event": "like"})
    assert response.status_code == 201 and response.json() == {"stored": 1}
    body = api.post("/api/recommend", json={"user_id": reader, "cutoff": 20}).json()
    assert body["strategy"] == "fold-in"
    assert "2" not in [b["book_id"] for b in body["recommendations"]]


@pytest.mark.parametrize("read", [True, False], ids=["book-with-readers", "cold-book"])
def test_more_like_this(api: httpx.Client, recs_model: RecsModel, read: bool) -> None:
    """Neighbours of the most read book are "readers of X also liked"; of a book nobody read,
    placed by its shelves, "readers of books shelved like X liked"."""
    counts = recs_model.counts
    placed = recs_model.unit_items.any(axis=1)
    cold = int(np.flatnonzero((counts == 0) & placed)[0])
    book = recs_model.items.ids[int(counts.argmax()) if read else cold]
    body = api.get(f"/api/books/{book}/similar", params={"limit": 8}).json()
    assert body["book"]["book_id"] == book
    similar = body["similar"]
    assert len(similar) == 8 and book not in [s["book_id"] for s in similar]
    check_books(similar, recs_model)
    # This data dir has no book embeddings, so more-like-this is readers' behaviour only.
    assert {s["source"] for s in similar} == {"item-item"}
    title = body["book"]["title"]
    reason = (
        f"readers of {title} also liked" if read else f"readers of books shelved like {title} liked"
    )
    assert all(s["reason"] == reason for s in similar)


@pytest.mark.parametrize(
    ("method", "path", "payload", "code"),
    [
        ("GET", "/api/books/no-such-book/similar", None, 404),
        ("POST", "/api/recommend", {"liked": ["no-such-book"]}, 404),
        ("POST", "/api/recommend", {"user_id": "x", "cutoff": 0}, 422),
        ("POST", "/api/recommend", {"user_id": "x", "cutoff": 101}, 422),
        ("POST", "/api/recommend", {"user_id": "x", "cutoff": "ten"}, 422),
        ("POST", "/api/recommend", {"user_id": "x", "pipeline": "three-stage"}, 422),
        ("POST", "/api/recommend", {"liked": ["2"], "pipeline": "two-stage"}, 422),  # no ranker
        ("GET", "/api/books/2/similar?limit=0", None, 422),
        ("POST", "/api/events", {"user_id": "x", "book_id": "nope"}, 404),
        ("POST", "/api/events", {"user_id": "x", "book_id": "2", "rating": 9}, 422),
    ],
)
def test_errors_are_json(
    api: httpx.Client, method: str, path: str, payload: dict[str, object] | None, code: int
) -> None:
    response = api.request(method, path, json=payload)
    assert response.status_code == code
    body = response.json()
    assert body["code"] == code and body["name"] and body["description"]


def test_a_known_readers_new_event_is_folded_in(api: httpx.Client, recs_model: RecsModel) -> None:
    reader = active_reader(recs_model, min_items=6)
    before = api.post("/api/recommend", json={"user_id": reader, "cutoff": 5}).json()
    top = before["recommendations"][0]["book_id"]
    assert before["strategy"] == "als"
    api.post(
        "/api/events", json={"user_id": reader, "book_id": top, "rating": 5}
    ).raise_for_status()
    after = api.post("/api/recommend", json={"user_id": reader, "cutoff": 5}).json()
    assert after["strategy"] == "fold-in"
    assert top not in [b["book_id"] for b in after["recommendations"]]
    assert not {b["book_id"] for b in after["recommendations"]} & rated_by(recs_model, reader)


def test_a_like_on_postgres_is_stored_and_excluded_next_time(
    postgres_api: httpx.Client, postgres_events_url: str, recs_model: RecsModel, recs_dir: Path
) -> None:
    """With a postgresql:// events URL, POST /api/events lands in PostgreSQL, shaping /recommend."""
    reader = last_active_reader(recs_model)
    before = postgres_api.post("/api/recommend", json={"user_id": reader, "cutoff": 10}).json()
    assert before["strategy"] == "als"
    top = before["recommendations"][0]["book_id"]
    response = postgres_api.post(
        "/api/events", json={"user_id": reader, "book_id": top, "event": "like"}
    )
    assert response.status_code == 201 and response.json() == {"stored": 1}
    store = open_interactions(postgres_events_url, recs_dir)
    try:
        history = set(store.history(str(recs_model.metadata["source"]), reader))
    finally:
        store.close()
    assert history == rated_by(recs_model, reader) | {top}
    after = postgres_api.post("/api/recommend", json={"user_id": reader, "cutoff": 10}).json()
    assert after["strategy"] == "fold-in"
    ids = {b["book_id"] for b in after["recommendations"]}
    assert len(ids) == 10 and not ids & history


def test_the_recommendations_app_answers_head_limits_bodies_and_documents_its_errors(
    api: httpx.Client,
) -> None:
    """The recommendations-only app keeps the main app's HTTP rules: HEAD wherever GET, one body
    limit (413 in the JSON error shape), every error status in its OpenAPI document."""
    head = api.head("/health")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(api.get("/health").content)
    big = api.post("/api/recommend", content=b"{" + b" " * (2 << 20) + b"}",
                   headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["code"] == 413
    recommend = api.get("/openapi.json").json()["paths"]["/api/recommend"]["post"]["responses"]
    assert {"413", "422"} <= set(recommend)

