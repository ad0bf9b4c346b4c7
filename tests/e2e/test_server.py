"""End to end: the real server on 127.0.0.1 over the sample, searched over HTTP."""

from __future__ import annotations

import json

import httpx
import pyarrow.parquet as pq

from tests.conftest import Server
from vibeshelf.settings import Settings


def test_health_reports_model_and_index(server: Server) -> None:
    body = httpx.get(f"{server.url}/health").json()
    assert body["status"] == "ok"
    assert body["model"]["name"] == "all-MiniLM-L6-v2"
    assert body["model"]["dim"] == 384
    assert body["index"]["count"] >= 2000
    assert body["index"]["build_id"]
    assert body["lexical"]["count"] == body["catalog"]["books"] and body["lexical"]["build_id"]


def test_search_returns_ranked_books_with_links_and_covers(server: Server) -> None:
    resp = httpx.get(f"{server.url}/api/search", params={"q": "boy wizard goes to a school of magic"})
    assert resp.status_code == 200
    assert "X-Process-Time" in resp.headers
    body = resp.json()
    assert len(body["results"]) == 10
    assert any("Harry Potter" in r["title"] for r in body["results"][:5])
    for result in body["results"]:
        assert result["url"].startswith("https://www.goodreads.com/book/show/")
        assert {"title", "authors", "year", "score", "cover_url"} <= result.keys()
    ranks = [r["score"] for r in body["results"]]
    assert ranks == sorted(ranks, reverse=True)


def test_filters_apply(server: Server) -> None:
    query = {"q": "epic quest with dragons", "limit": 20}
    filters = {"shelf": "romance", "year_min": 1990, "year_max": 2010, "min_rating": 4.0,
               "language": "eng"}
    books = pq.read_table(Settings(data_dir=server.data_dir).books_path).to_pydict()
    shelves = dict(zip(books["book_id"], books["shelves"], strict=True))  # results show a few
    languages = dict(zip(books["book_id"], books["language"], strict=True))
    unfiltered = httpx.get(f"{server.url}/api/search", params=query).json()["results"]
    assert any("romance" not in shelves[r["book_id"]] for r in unfiltered)  # work to do
    body = httpx.get(f"{server.url}/api/search", params=query | filters).json()
    assert body["results"]
    for r in body["results"]:
        assert "romance" in shelves[r["book_id"]]
        assert languages[r["book_id"]] == "eng"
        assert 1990 <= r["year"] <= 2010
        assert r["average_rating"] >= 4.0
    french = httpx.get(f"{server.url}/api/search", params=query | {"language": "fre"}).json()
    assert french["results"]
    assert {languages[r["book_id"]] for r in french["results"]} == {"fre"}


def test_empty_query_is_a_json_422(server: Server) -> None:
    resp = httpx.get(f"{server.url}/api/search", params={"q": "   "})
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == 422 and "empty" in body["description"]


def test_missing_and_invalid_parameters_are_json_422(server: Server) -> None:
    assert httpx.get(f"{server.url}/api/search").json()["code"] == 422
    resp = httpx.get(f"{server.url}/api/search", params={"q": "x", "limit": 0})
    assert resp.status_code == 422 and "limit" in resp.json()["description"]
    resp = httpx.get(f"{server.url}/api/search", params={"q": "x", "year_min": 2000, "year_max": 1900})
    assert resp.status_code == 422


def test_page_renders_results_server_side(server: Server) -> None:
    html = httpx.get(f"{server.url}/", params={"q": "funny sci-fi"}).text
    assert 'class="card mb-3 result"' in html
    assert "https://www.goodreads.com/book/show/" in html
    assert "bootstrap.min.css" in html


def test_openapi_documents_search(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/api/search" in spec["paths"]


def test_queries_are_logged_as_json_lines(server: Server) -> None:
    body = httpx.get(f"{server.url}/api/search", params={"q": "sprawling family saga"}).json()
    log_file = server.data_dir / "logs" / "queries.jsonl"
    entries = [json.loads(line) for line in log_file.read_text().splitlines()]
    [entry] = [e for e in entries if e["request_id"] == body["request_id"]]
    assert entry["query"] == "sprawling family saga"
    assert entry["results"] == [r["book_id"] for r in body["results"]]
    assert entry["latency_ms"] > 0


def test_modes_and_explanations_over_http(server: Server) -> None:
    url = f"{server.url}/api/search"
    lexical = httpx.get(url, params={"q": "dragon rider", "mode": "lexical", "explain": "true"}).json()
    assert lexical["mode"] == "lexical" and not lexical["reranked"]
    for r in lexical["results"]:
        why = r["explanation"]
        assert why["lexical_rank"] is not None and set(why["shared_words"]) & {"dragon", "rider"}
    hybrid = httpx.get(url, params={"q": "dragon rider"}).json()
    assert hybrid["mode"] == "hybrid" and hybrid["reranked"]
    assert all(r["explanation"] is None for r in hybrid["results"])
    plain = httpx.get(url, params={"q": "dragon rider", "rerank": "false"}).json()
    assert not plain["reranked"]
    bad = httpx.get(url, params={"q": "dragon rider", "mode": "telepathy"})
    assert bad.status_code == 422 and "mode" in bad.json()["description"]


def test_suggest_completes_titles_and_then_popular_queries(server: Server) -> None:
    url = f"{server.url}/api/suggest"
    body = httpx.get(url, params={"q": "harry pot"}).json()
    assert body["suggestions"] and all(s["kind"] in {"title", "author", "shelf", "query"} for s in body["suggestions"])
    assert body["suggestions"][0]["text"].startswith("Harry Potter")
    assert httpx.get(url).status_code == 422
    assert httpx.get(url, params={"q": "x", "limit": 0}).status_code == 422
    query = "quiet lighthouse keeper tales"
    assert query not in [s["text"] for s in httpx.get(url, params={"q": "quiet lightho"}).json()["suggestions"]]
    for _ in range(3):  # three readers, each searching again in the session they were given
        with httpx.Client(base_url=server.url) as reader:
            for _ in range(2):
                reader.get("/api/search", params={"q": query}).raise_for_status()
    first = httpx.get(url, params={"q": "quiet lightho"}).json()["suggestions"][0]
    assert first == {"text": query, "kind": "query"}


def suggested(server: Server, prefix: str) -> list[str]:
    found = httpx.get(f"{server.url}/api/suggest", params={"q": prefix}).json()["suggestions"]
    return [s["text"] for s in found if s["kind"] == "query"]


def test_one_client_cannot_make_a_suggestion(server: Server) -> None:
    """Two searches once made "buy cheap pills at evil.example" the top suggestion."""
    spam, plain = "buy cheap pills at evil.example", "velvet moth orchard"
    for query in (spam, plain):
        with httpx.Client(base_url=server.url) as client:  # one client, keeping its session
            for _ in range(6):
                client.get("/api/search", params={"q": query}).raise_for_status()
        for _ in range(6):  # and one that drops it, or forges one, every time
            httpx.get(f"{server.url}/api/search", params={"q": query}).raise_for_status()
            httpx.get(f"{server.url}/api/search", params={"q": query},
                      headers={"X-Vibeshelf-Session": "forged"}).raise_for_status()
    assert suggested(server, "buy cheap") == [] and suggested(server, "velvet mo") == []
    for _ in range(3):  # many readers: the plain query becomes a suggestion, the link never
        with httpx.Client(base_url=server.url) as reader:
            for query in (spam, spam, plain, plain):
                reader.get("/api/search", params={"q": query}).raise_for_status()
    assert suggested(server, "buy cheap") == [] and suggested(server, "velvet mo") == [plain]


def test_search_reads_its_query_string_as_fastapi_does(server: Server) -> None:
    """Repeated list parameters all count, a repeated single one keeps its last value, booleans
    take any of pydantic's spellings and unknown parameters are ignored; a bad value is FastAPI's
    422 naming the parameter."""
    genres = [g["name"] for g in httpx.get(f"{server.url}/api/genres").json()["genres"][:2]]
    query = [("q", "a story to get lost in"), ("genre", genres[0]), ("genre", genres[1]),
             ("limit", "7"), ("limit", "3"), ("explain", "yes"), ("mode", "vector"), ("colour", "red")]
    resp = httpx.get(f"{server.url}/api/search", params=query)
    assert resp.status_code == 200
    body = resp.json()
    assert body["mode"] == "vector" and len(body["results"]) == 3
    assert all(set(r["genres"]) & set(genres) and r["explanation"] for r in body["results"])
    bad = httpx.get(f"{server.url}/api/search", params={"q": "dragons", "year_min": "soon"})
    assert bad.status_code == 422 and "year_min" in bad.json()["description"]
