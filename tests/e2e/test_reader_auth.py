"""End to end: a reader's events and personal recommendations need that reader's token or a
trusted backend's credentials, against a real `vibeshelf serve`; anonymous sessions stay open."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pyarrow.parquet as pq
import pytest

from tests.conftest import BACKEND, SERVER_ENCODE_KEY, SERVER_JWT_SECRET, Server, free_port
from vibeshelf.recommend.sample import SAMPLE_RATINGS_PATH


def reader_and_books() -> tuple[str, list[str]]:
    """The sample's second most active reader (the most active one is test_server_recommend's)
    and, for someone else's books, the books the most active reader rated."""
    books: dict[str, set[str]] = {}
    for row in pq.read_table(SAMPLE_RATINGS_PATH).to_pylist():
        books.setdefault(row["user_id"], set()).add(row["book_id"])
    first, second = sorted(sorted(books), key=lambda user: len(books[user]), reverse=True)[:2]
    return second, sorted(books[first] - books[second])


def token(**claims: object) -> dict[str, str]:
    claims = {"exp": int(time.time()) + 60, **claims}
    return {"Authorization": f"Bearer {jwt.encode(claims, SERVER_JWT_SECRET, algorithm='HS256')}"}


def recommend(server: Server, user: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/recommend", json={"user_id": user, "cutoff": 10}, headers=headers,
        timeout=30,
    )


def event(
    server: Server, user: str, book: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/events", json={"user_id": user, "book_id": book, "event": "like"},
        headers=headers, timeout=30,
    )


def json_error(resp: httpx.Response, code: int) -> str:
    assert resp.status_code == code, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    return str(resp.json()["description"])


def test_anonymous_events_cannot_change_a_readers_recommendations(server: Server) -> None:
    reader, others = reader_and_books()
    before = recommend(server, reader, BACKEND).json()["recommendations"]
    for book in others[:5]:
        refused = event(server, reader, book)
        assert "'events' scope" in json_error(refused, 401)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert recommend(server, reader, BACKEND).json()["recommendations"] == before


def test_anonymous_callers_cannot_read_a_readers_history(server: Server) -> None:
    reader, _ = reader_and_books()
    refused = recommend(server, reader)
    assert "'recommend' scope" in json_error(refused, 401)
    assert "reason" not in refused.text and "recommendations" not in refused.json()
    forged = recommend(server, reader, {"Authorization": "Bearer not-a-key-or-token"})
    json_error(forged, 401)


def test_an_anonymous_session_with_liked_books_needs_no_credentials(server: Server) -> None:
    _, others = reader_and_books()
    resp = httpx.post(
        f"{server.url}/api/recommend", json={"liked": others[:3], "cutoff": 5}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["recommendations"]) == 5


@pytest.mark.parametrize("path", ["/api/events", "/api/recommend"])
def test_credentials_without_the_scope_are_403(server: Server, path: str) -> None:
    reader, others = reader_and_books()
    body = {"user_id": reader, "book_id": others[0]}
    for headers in ({"X-API-Key": SERVER_ENCODE_KEY}, token(sub=reader, scope="encode")):
        resp = httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=30)
        assert "scope" in json_error(resp, 403)
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


def test_a_readers_token_acts_for_that_reader_only(server: Server) -> None:
    reader, others = reader_and_books()
    own = token(sub=reader, scope="events recommend")
    assert "acts for reader" in json_error(event(server, "someone-else", others[0], own), 403)
    assert "acts for reader" in json_error(recommend(server, "someone-else", own), 403)
    before = recommend(server, reader, own)
    assert before.status_code == 200
    liked = before.json()["recommendations"][0]["book_id"]
    assert event(server, reader, liked, own).status_code == 201
    after = recommend(server, reader, own).json()["recommendations"]
    assert liked not in {r["book_id"] for r in after}  # the reader's own event counts


def test_a_backend_key_acts_for_any_reader(server: Server) -> None:
    reader, _ = reader_and_books()
    before = recommend(server, reader, BACKEND).json()["recommendations"]
    liked = before[0]["book_id"]
    assert event(server, reader, liked, BACKEND).status_code == 201
    after = recommend(server, reader, BACKEND).json()["recommendations"]
    assert liked not in {r["book_id"] for r in after}


def test_no_auth_on_loopback_opens_the_reader_apis_and_says_so(sample_data_dir: Path) -> None:
    local = Server(sample_data_dir, free_port(), cli_args=("--no-auth",))
    try:
        local.wait_ready()
        reader, _ = reader_and_books()
        assert recommend(local, reader).status_code == 200
    finally:
        out = local.stop()
    assert "AUTH IS OFF" in out
