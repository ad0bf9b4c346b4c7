"""End to end: under load the query log and the served-requests table stay within their limits,
and what readers and suggestions need from them stays."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, free_port, run_cli

POPULAR = "haunted lighthouse mystery"


@pytest.fixture
def data_dir(sample_data_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(sample_data_dir, copy, ignore=shutil.ignore_patterns("logs", "experiments"))
    return copy


def issued_session(server: Server) -> str:
    """A reader session as the server issues it (signed), for the client to send back."""
    resp = httpx.get(f"{server.url}/api/search", params={"q": "a first search"}, timeout=30)
    return resp.headers["X-Vibeshelf-Session"]


def search(server: Server, query: str, session: str) -> httpx.Response:
    resp = httpx.get(f"{server.url}/api/search", params={"q": query},
                     headers={"X-Vibeshelf-Session": session}, timeout=30)
    assert resp.status_code == 200
    return resp


def suggested_queries(server: Server, prefix: str) -> list[str]:
    body = httpx.get(f"{server.url}/api/suggest", params={"q": prefix}).json()
    return [s["text"] for s in body["suggestions"] if s["kind"] == "query"]


def test_the_query_log_rotates_by_size_and_suggestions_keep_its_window(data_dir: Path) -> None:
    env = {"VIBESHELF_SERVE__QUERY_LOG_MAX_MB": "0.004", "VIBESHELF_SERVE__QUERY_LOG_KEEP": "2"}
    logs = data_dir / "logs"
    server = Server(data_dir, free_port(), env)
    try:
        server.wait_ready()
        readers = [issued_session(server) for _ in range(3)]
        for session in readers:  # three returning readers make a query popular
            search(server, POPULAR, session)
        for i in range(10):  # with the six above: about 16 lines of ~430 bytes, one rotation
            search(server, f"a sad novel about whales number {i}", readers[0])
        assert (logs / "queries.jsonl.1").is_file()  # rotated at least once
        assert POPULAR in suggested_queries(server, "haunted")
        for i in range(60):
            search(server, f"cheerful space opera {i}", readers[0])
    finally:
        server.stop()
    files = sorted(p.name for p in logs.glob("queries.jsonl*") if not p.name.endswith(".lock"))
    assert files == ["queries.jsonl", "queries.jsonl.1", "queries.jsonl.2"]
    assert all((logs / name).stat().st_size < 4096 + 2048 for name in files)  # a line past the limit
    kept = "".join((logs / name).read_text() for name in files)
    assert "cheerful space opera 59" in kept and POPULAR not in kept

    server = Server(data_dir, free_port(), env)  # a restart reads the kept window again
    try:
        server.wait_ready()
        for session in (issued_session(server), issued_session(server)):  # with the kept one: 3
            search(server, "cheerful space opera 59", session)
        assert "cheerful space opera 59" in suggested_queries(server, "cheerful")
    finally:
        server.stop()


def test_the_served_requests_table_keeps_the_newest_rows_and_their_feedback_works(
    data_dir: Path,
) -> None:
    for args in (("models", "add", "s-a", "--surface", "search"),
                 ("models", "add", "s-b", "--surface", "search", "--candidates", "30"),
                 ("models", "activate", "s-a"), ("models", "activate", "s-b")):
        run_cli(*args, data_dir=data_dir)
    server = Server(data_dir, free_port(), {"VIBESHELF_EXPERIMENT__SERVED_MAX_ROWS": "20"})
    try:
        server.wait_ready()
        session = issued_session(server)
        ids = [search(server, "a cozy village mystery", session).json()["request_id"]
               for _ in range(80)]
        feedback = lambda rid: httpx.post(
            f"{server.url}/api/feedback", json={"request_id": rid, "position": 1, "event": "click"},
            headers={"X-Vibeshelf-Session": session},
        )
        assert feedback(ids[-1]).status_code == 201
        assert feedback(ids[0]).status_code == 404
    finally:
        server.stop()
    with sqlite3.connect(data_dir / "experiments" / "feedback.sqlite3") as db:
        kept = [row[0] for row in db.execute("SELECT request_id FROM vibeshelf_served")]
    assert 20 <= len(kept) <= 22  # pruned every 2 new rows
    assert set(ids[-20:]) <= set(kept)
