"""The reader's pages over HTTP against a real `vibeshelf serve`: the search form's values, HTML
errors on page paths (JSON ones elsewhere), the experiments page without a registry, and a
`score` that follows the order in every mode."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server

HTML = {"Accept": "text/html,application/xhtml+xml"}
EMPTY_BOXES = {"shelf": "", "year_min": "", "year_max": "", "min_rating": "", "mode": ""}


def assert_html(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"].startswith("text/html"), resp.headers["content-type"]
    assert not resp.text.lstrip().startswith("{")
    assert '<a href="/"' in resp.text  # the way back to search
    return resp.text


def test_the_form_with_empty_filter_boxes_searches_without_filters(server: Server) -> None:
    resp = httpx.get(server.url + "/", params={"q": "dragons and magic", **EMPTY_BOXES})
    page = assert_html(resp, 200)
    assert page.count('class="card mb-3 result"') == 10
    assert 'id="form-error"' not in page


@pytest.mark.parametrize(("box", "value", "message"), [
    ("min_rating", "9", "Min rating must be a number from 0 to 5"),
    ("min_rating", "-0.5", "Min rating must be a number from 0 to 5"),
    ("min_rating", "nan", "Min rating must be a number from 0 to 5"),
    ("min_rating", "inf", "Min rating must be a number from 0 to 5"),
    ("min_rating", "four", "Min rating must be a number from 0 to 5"),
    ("year_min", "abc", "From year must be a whole number from -5000 to 3000"),
    ("year_min", "9" * 400, "From year must be a whole number from -5000 to 3000"),
    ("year_max", "1e3", "To year must be a whole number from -5000 to 3000"),
    ("year_max", "-6000", "To year must be a whole number from -5000 to 3000"),
    ("mode", "fastest", "Mode must be one of vector, lexical, hybrid"),
])
def test_a_bad_filter_value_gives_the_form_back_with_a_message(
    server: Server, box: str, value: str, message: str
) -> None:
    for query in ("dragons", ""):  # with a query, and on the bare page
        params = {"q": query, **EMPTY_BOXES, box: value}
        page = assert_html(httpx.get(server.url + "/", params=params), 422)
        assert 'id="form-error"' in page and message in page
        assert 'role="search"' in page and 'class="card mb-3 result"' not in page


def test_years_in_the_wrong_order_are_a_message_too(server: Server) -> None:
    params = {"q": "dragons", "year_min": "2001", "year_max": "1999"}
    page = assert_html(httpx.get(server.url + "/", params=params), 422)
    assert "From year (2001) is after to year (1999)." in page


def test_filter_bounds_are_inclusive(server: Server) -> None:
    params = {"q": "dragons", "year_min": "-5000", "year_max": "3000", "min_rating": "0"}
    page = assert_html(httpx.get(server.url + "/", params=params), 200)
    assert page.count('class="card mb-3 result"') == 10


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/books/999999", 404, "There is no book with id 999999 in the catalog."),
    ("/books/" + "x" * 300, 422, "book_id: String should have at most 200 characters"),
    ("/no-such-page", 404, "There is no page at this address."),
])
def test_page_errors_are_pages_in_the_site_layout(
    server: Server, path: str, status: int, text: str
) -> None:
    page = assert_html(httpx.get(server.url + path, headers=HTML), status)
    assert text in page
    assert 'id="site-nav"' in page and "Back to search" in page


@pytest.mark.parametrize(("path", "headers", "status", "description"), [
    ("/api/no-such-route", HTML, 404, "Not Found"),
    ("/v1/no-such-route", HTML, 404, "Not Found"),
    ("/health/more", HTML, 404, "Not Found"),
    ("/no-such-page", {"Accept": "application/json"}, 404, "Not Found"),
    ("/api/search?q=x&min_rating=9", HTML, 422,
     "min_rating: Input should be less than or equal to 5"),
    ("/api/books/no-such-book/similar", HTML, 404, "unknown book id(s): no-such-book"),
])
def test_machine_routes_keep_their_json_errors(
    server: Server, path: str, headers: dict[str, str], status: int, description: str
) -> None:
    resp = httpx.get(server.url + path, headers=headers)
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/json"
    name = {404: "Not Found", 422: "Unprocessable Entity"}[status]
    assert resp.json() == {"code": status, "name": name, "description": description}


def test_experiments_without_a_registry_says_how_to_start_one(server: Server) -> None:
    assert not (server.data_dir / "experiments" / "registry.json").exists()
    page = assert_html(httpx.get(server.url + "/experiments", headers=HTML), 200)
    for command in ("vibeshelf models add s-base --surface search", "vibeshelf models activate"):
        assert command in page
    assert httpx.get(server.url + "/api/experiments").status_code == 404  # the API is unchanged


def test_every_page_links_the_experiments_dashboard(server: Server) -> None:
    for path in ("/", "/?q=dragons", "/experiments"):
        assert 'href="/experiments"' in assert_html(httpx.get(server.url + path), 200)


@pytest.mark.parametrize("mode", ["vector", "lexical", "hybrid"])
def test_score_follows_the_order_in_every_mode(server: Server, mode: str) -> None:
    for q in ("cozy village mystery", "dragons", "a boy wizard at a school of magic"):
        resp = httpx.get(f"{server.url}/api/search", params={"q": q, "mode": mode, "limit": 50})
        results = resp.json()["results"]
        scores = [r["score"] for r in results]
        assert len(scores) >= 10
        assert scores == sorted(scores, reverse=True), (q, scores)
        assert scores[0] > scores[-1]  # a score that tells results apart, not a constant
        similarities = [r["similarity"] for r in results]
        if mode == "lexical":  # the query is not encoded: no similarity to show
            assert similarities == [None] * len(results)
        else:
            assert all(-1.0 <= s <= 1.0 for s in similarities)


def test_the_page_shows_no_number_that_contradicts_the_order(server: Server) -> None:
    page = assert_html(httpx.get(server.url + "/", params={"q": "dragons", "mode": ""}), 200)
    assert "match 0." not in page and 'class="text-secondary note"' not in page
