"""End to end: `vibeshelf index` into Redis and into PostgreSQL, then `vibeshelf serve` searches it."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, free_port, run_cli


@pytest.mark.parametrize("backend", ["redis", "postgresql"])
def test_serve_searches_an_index_on_a_server(
    backend: str, request: pytest.FixtureRequest, sample_data_dir: Path, tmp_path: Path
) -> None:
    name = f"e2e{uuid.uuid4().hex[:8]}"
    if backend == "redis":
        url = f"{request.getfixturevalue('redisearch_url')}?prefix={name}"
    else:
        url = f"{request.getfixturevalue('postgres_url')}?table={name}"
    data_dir = tmp_path / "data"  # the sample without its embedded index: it must not be used
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("index"))
    env = {"VIBESHELF_STORE__URL": url}
    out = run_cli("index", data_dir=data_dir, env=env).stdout
    assert f"{'pgvector' if backend == 'postgresql' else 'redis'} build" in out
    server = Server(data_dir, free_port(), env=env)
    try:
        server.wait_ready(timeout=90)
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "ok"
        assert health["index"]["count"] >= 2900
        assert health["index"]["backend"] in out
        resp = httpx.get(
            f"{server.url}/api/search", params={"q": "boy wizard goes to a school of magic"}
        )
        assert resp.status_code == 200
        results = resp.json()["results"]
        assert len(results) == 10
        assert any("Harry Potter" in r["title"] for r in results[:5])
        params = {
            "q": "epic quest with dragons",
            "year_min": 1990,
            "year_max": 2010,
            "min_rating": 4.0,
            "limit": 20,
        }
        filtered = httpx.get(f"{server.url}/api/search", params=params).json()["results"]
        assert filtered
        assert all(1990 <= r["year"] <= 2010 and r["average_rating"] >= 4.0 for r in filtered)
    finally:
        log = server.stop()
    assert "Traceback" not in log, log
