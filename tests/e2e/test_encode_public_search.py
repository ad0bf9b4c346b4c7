"""`serve --only all`: the search page and API stay public while /v1 needs a key; one encoder."""

from __future__ import annotations

import httpx

from tests.conftest import SERVER_API_KEY, Server


def test_search_is_public_and_v1_is_not(server: Server) -> None:
    assert httpx.get(f"{server.url}/api/search", params={"q": "cozy mystery"}).status_code == 200
    assert httpx.get(f"{server.url}/").status_code == 200
    resp = httpx.post(f"{server.url}/v1/encode", json={"texts": "cozy mystery"})
    assert resp.status_code == 401 and resp.json()["code"] == 401


def test_v1_serves_the_model_the_index_was_built_with(server: Server) -> None:
    health = httpx.get(f"{server.url}/health").json()
    body = httpx.post(
        f"{server.url}/v1/encode", json={"texts": "cozy mystery"}, headers={"X-API-Key": SERVER_API_KEY}
    ).json()
    assert body["version"] == health["model"]["version"] and len(body["vectors"][0]) == 384
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'route="/api/search"' in metrics and 'route="/v1/encode"' in metrics
