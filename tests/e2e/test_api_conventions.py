"""End to end: the real server keeps its conventions under hostile input.

Out-of-range numbers are 422s, bodies past the limit are cut off with a 413, HEAD answers wherever
GET does, and /openapi.json documents the errors sent.
"""

from __future__ import annotations

import select
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import SERVER_API_KEY, Server

HUGE = "1" + "0" * 20  # past int64: orjson could not log it
VERY_HUGE = "9" * 400  # past any float: the index filter overflowed on it
MiB = 1024 * 1024
KEY = {"X-API-Key": SERVER_API_KEY}  # for routes that may want a trusted caller


def error(resp: httpx.Response, status: int) -> str:
    """The description of the service's JSON error body, after checking the status and shape."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"code", "name", "description"} and body["code"] == status
    return str(body["description"])


def a_book(server: Server) -> str:
    resp = httpx.post(
        f"{server.url}/api/recommend", json={"user_id": "nobody-at-all", "cutoff": 1}, headers=KEY
    )
    return str(resp.json()["recommendations"][0]["book_id"])


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("year_min", HUGE), ("year_min", VERY_HUGE), ("year_max", f"-{VERY_HUGE}"),
        ("year_min", "3001"), ("year_max", "-5001"), ("min_rating", "5.01"), ("min_rating", "-0.1"),
        ("min_rating", "1e400"), ("min_rating", "nan"), ("limit", HUGE), ("limit", "0"),
    ],
)
def test_out_of_range_search_numbers_are_422(server: Server, param: str, value: str) -> None:
    resp = httpx.get(f"{server.url}/api/search", params={"q": "cozy mystery", param: value})
    assert param in error(resp, 422)


def test_search_numbers_at_their_bounds_are_accepted(server: Server) -> None:
    params = {"q": "ancient epic", "year_min": "-5000", "year_max": "3000", "min_rating": "0"}
    assert httpx.get(f"{server.url}/api/search", params=params).status_code == 200
    assert httpx.get(f"{server.url}/api/search", params={"q": "x", "min_rating": "5"}).status_code == 200


def test_out_of_range_numbers_elsewhere_are_422(server: Server) -> None:
    book = a_book(server)
    big = int(HUGE)
    cases = {
        "limit": httpx.get(f"{server.url}/api/suggest", params={"q": "har", "limit": HUGE}),
        "limit ": httpx.get(f"{server.url}/api/books/{book}/similar", params={"limit": VERY_HUGE}),
        "cutoff": httpx.post(
            f"{server.url}/api/recommend", json={"user_id": "u", "cutoff": big}, headers=KEY
        ),
        "rating": httpx.post(
            f"{server.url}/api/events", json={"user_id": "u", "book_id": book, "rating": big},
            headers=KEY,
        ),
        "position": httpx.post(
            f"{server.url}/api/feedback", json={"request_id": "r", "position": big, "event": "click"},
            headers=KEY,
        ),
    }
    for field, resp in cases.items():
        assert field.strip() in error(resp, 422)
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def raw_request(server: Server, head: str) -> socket.socket:
    """A socket that has sent `head` (request line and headers, no body yet) to the server."""
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(head.encode())
    return sock


def read_status_and_body(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body


def rss_bytes(pid: int) -> int:
    fields = Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()
    return int(fields[0]) * 1024


def test_declared_body_over_the_limit_is_413_before_it_is_sent(server: Server) -> None:
    head = (f"POST /api/events HTTP/1.1\r\nHost: x\r\nX-API-Key: {SERVER_API_KEY}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {300 * MiB}\r\n\r\n")
    with raw_request(server, head) as sock:
        status, body = read_status_and_body(sock)
    assert status == 413 and b"request body over" in body


def test_chunked_body_is_cut_off_at_the_limit_without_growing_the_server(server: Server) -> None:
    """A 200 MiB chunked body: the 413 comes after about the limit, and the server's memory stays."""
    chunk = b"x" * (64 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    rss_before = rss_bytes(server.proc.pid)
    sent = 0
    head = (f"POST /api/events HTTP/1.1\r\nHost: x\r\nX-API-Key: {SERVER_API_KEY}\r\n"
            "Content-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    with raw_request(server, head) as sock:
        while sent < 200 * MiB and not select.select([sock], [], [], 0)[0]:
            sock.sendall(framed)
            sent += len(chunk)
        status, body = read_status_and_body(sock)
    assert status == 413 and b"request body over" in body
    assert sent < 32 * MiB, f"the server read {sent} bytes before refusing"
    assert rss_bytes(server.proc.pid) - rss_before < 64 * MiB
    assert httpx.get(f"{server.url}/health").status_code == 200


# Headers that differ between two requests whatever the method.
PER_REQUEST = {"date", "x-process-time", "server-timing", "content-length"}
# A search hands each request without a session a fresh one: the header is there, its value differs.
PER_SESSION = {"x-vibeshelf-session", "set-cookie"}


def head_paths(server: Server) -> dict[str, bool]:
    """GET paths, each with whether two GETs of it give bodies of one length (no timings, request
    ids or suggestions rotating by the minute)."""
    book = a_book(server)
    return {
        "/": False, "/?q=cozy+mystery": False, f"/books/{book}": True, "/books/no-such-book": True,
        "/health": True, "/openapi.json": True, "/docs": True, "/static/app.css": True,
        "/api/search?q=dragons": False, "/api/suggest?q=har": True,
        f"/api/books/{book}/similar": False, "/api/search?q=x&year_min=99999": True,
        "/no-such-page": True,
    }


def test_head_answers_like_get_without_a_body(server: Server) -> None:
    for path, fixed_length in head_paths(server).items():
        got = httpx.get(f"{server.url}{path}")
        head = httpx.head(f"{server.url}{path}")
        assert head.status_code == got.status_code != 405, path
        assert head.content == b"", path
        assert {k: v for k, v in head.headers.items() if k not in PER_REQUEST | PER_SESSION} == {
            k: v for k, v in got.headers.items() if k not in PER_REQUEST | PER_SESSION
        }, path
        assert PER_SESSION & set(head.headers) == PER_SESSION & set(got.headers), path
        if fixed_length:
            assert head.headers["content-length"] == got.headers["content-length"], path


def test_head_on_a_post_only_route_is_405(server: Server) -> None:
    resp = httpx.head(f"{server.url}/api/events")
    assert resp.status_code == 405 and resp.headers["allow"] == "POST"


def openapi(server: Server) -> dict[str, Any]:
    schema: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    return schema


# The embedding protocols answer errors in their own shape (see serve/protocol_errors.py).
PROTOCOL_ERROR_BODIES = {"openai": "OpenAIErrorResponse", "tei": "TeiError"}


def test_openapi_documents_the_error_body_sent(server: Server) -> None:
    schema = openapi(server)
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert set(components["ErrorBody"]["required"]) == {"code", "name", "description"}
    sent = httpx.get(f"{server.url}/api/search", params={"q": "x", "year_min": HUGE}).json()
    assert set(sent) == set(components["ErrorBody"]["properties"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "413", "500"} <= set(responses), (method, path)
            body = PROTOCOL_ERROR_BODIES.get(operation["tags"][0], "ErrorBody")
            for code, response in responses.items():
                if code == "default" or int(code) >= 400:
                    json_schema = response["content"]["application/json"]["schema"]
                    assert json_schema == {"$ref": f"#/components/schemas/{body}"}, (path, code)


def test_openapi_lists_each_routes_own_statuses(server: Server) -> None:
    paths = openapi(server)["paths"]
    expected = {
        ("post", "/api/recommend"): {"404", "422", "503"},
        ("get", "/api/books/{book_id}/similar"): {"404", "422", "503"},
        ("post", "/api/events"): {"404", "422", "503"},
        ("post", "/api/feedback"): {"404", "409", "422", "503"},
        ("get", "/api/experiments"): {"404"},
        ("get", "/api/search"): {"422", "503"},
        ("post", "/v1/encode"): {"401", "403", "413", "422", "429", "503"},
    }
    for (method, path), codes in expected.items():
        assert codes <= set(paths[path][method]["responses"]), (method, path)
    assert "422" not in paths["/api/experiments"]["get"]["responses"]  # no parameters to get wrong
    rate_limited = paths["/v1/encode"]["post"]["responses"]["429"]
    assert rate_limited["headers"]["Retry-After"]["required"] is True
