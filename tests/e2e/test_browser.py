"""The pages in headless Chromium at desktop and phone widths: suggestions, results, filters,
explanations, search-box completions, every link a reader follows, error pages, the dashboard."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import Server, free_port, run_cli
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.genres import genre_map
from vibeshelf.catalog.series import words_key
from vibeshelf.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def test_clicking_a_suggestion_shows_results(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(server.url + "/")
    suggestions = page.locator("#suggestions a.suggestion")
    assert suggestions.count() >= 3
    text = suggestions.first.inner_text()
    suggestions.first.click()
    page.wait_for_selector("#results li.result")
    assert page.locator("#results li.result").count() >= 5
    assert page.input_value("#q") == text
    first_link = page.locator("#results a.book-link").first.get_attribute("href")
    assert first_link and first_link.startswith("https://www.goodreads.com/book/show/")
    why = page.locator("#results details.why").first
    assert not why.locator(".why-ranks").is_visible()
    why.locator("summary").click()
    assert why.locator(".why-ranks").is_visible()
    assert "rank" in why.locator(".why-ranks").inner_text()
    assert why.locator(".why-words").inner_text().startswith("Shared words:")
    page.screenshot(path=str(tmp_path / "results.png"), full_page=False)
    title = page.locator("#results .book-link").first.inner_text()
    page.locator("#results a.more-like-this").first.click()
    page.wait_for_selector("#similar li.result")
    assert page.locator("#book .book-link").inner_text() == title
    similar = page.locator("#similar li.result")
    assert similar.count() >= 5
    assert title not in page.locator("#similar .book-link").all_inner_texts()
    assert all(note.strip() for note in page.locator("#similar .note").all_inner_texts())


def completions_after_typing(page: Page, prefix: str, expected: list[str]) -> list[str]:
    """Type `prefix` into an empty search box and wait for the datalist to show `expected`."""
    page.fill("#q", "")
    page.locator("#q").press_sequentially(prefix, delay=30)
    page.wait_for_function(
        """want => {
             const got = [...document.querySelectorAll('#completions option')].map(o => o.value);
             return got.length === want.length && got.every((text, i) => text === want[i]);
           }""",
        arg=expected,
    )
    return page.eval_on_selector_all("#completions option", "os => os.map(o => o.value)")


def test_typing_fills_the_datalist_with_completions(server: Server, browser: Browser) -> None:
    catalog = BookCatalog.load(Settings(data_dir=server.data_dir).books_path)
    top = max(catalog, key=lambda b: b.ratings_count)
    page = browser.new_page()
    page.goto(server.url + "/")
    assert page.eval_on_selector("#q", "q => q.list.id") == "completions"
    assert page.locator("#completions option").count() == 0
    for prefix, wanted in [(top.title[:4].lower(), top.title),
                           (top.authors[0].split()[-1][:4].lower(), top.authors[0])]:
        api = httpx.get(f"{server.url}/api/suggest", params={"q": prefix, "limit": 8}).json()
        expected = [s["text"] for s in api["suggestions"]]
        assert wanted in expected
        assert all(f" {prefix}" in f" {words_key(text)}" for text in expected), (prefix, expected)
        assert completions_after_typing(page, prefix, expected) == expected


WIDTHS = {"desktop": 1280, "phone": 390}


def reader_page(browser: Browser, server_url: str, width: int) -> Page:
    """A page at `width` that reaches only the server: cover images from their host fail, as offline."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route(lambda url: not url.startswith(server_url), lambda route: route.abort())
    return page


def assert_fits(page: Page) -> None:
    """The page is HTML (not a JSON body) and nothing overflows it sideways."""
    assert page.evaluate("document.contentType") == "text/html"
    assert not page.locator("body").inner_text().lstrip().startswith("{")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} overflows by {overflow}px"


def submit(page: Page) -> int:
    """Press Search; the status of the page it leads to."""
    with page.expect_navigation() as navigation:
        page.locator("form[role=search] button[type=submit]").click()
    response = navigation.value
    assert response is not None
    return response.status


def assert_cards(page: Page) -> list[str]:
    """Result cards, each with its cover's placeholder in place of the failed image and a few
    canonical genres; their titles."""
    cards = page.locator("#results li.result")
    assert cards.count() >= 5
    for i in range(cards.count()):
        card = cards.nth(i)
        card.scroll_into_view_if_needed()  # covers load lazily, as they come into view
        expect(card.locator("img.cover")).to_be_hidden()  # failed to load (or none): placeholder
        assert card.locator(".cover-initials").is_visible()
        assert card.locator(".cover-initials").inner_text().strip()
        shown = card.locator(".genres > a.genre").all_inner_texts()
        assert 1 <= len(shown) <= 4
        assert len(set(shown)) == len(shown) and set(shown) <= set(genre_map().genres), shown
        assert "match" not in card.inner_text()
    return cards.locator(".book-link").all_inner_texts()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_reader_searches_filters_and_follows_each_link(
    server: Server, browser: Browser, width: int
) -> None:
    page = reader_page(browser, server.url, width)
    page.goto(server.url + "/")
    assert_fits(page)
    page.fill("#q", "dragons and magic")
    page.locator("#filters summary").click()
    assert page.locator("input[name=min_rating]").is_visible()
    assert submit(page) == 200
    assert "year_min=&" in page.url and "min_rating=&" in page.url  # the empty boxes were sent
    assert_fits(page)
    assert_cards(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=f"/tmp/vibeshelf-results-{width}.png", full_page=False)

    assert page.locator("#filters").get_attribute("open") is None  # no filter set: folded
    page.locator("#filters summary").click()
    page.fill("input[name=min_rating]", "4.2")
    assert submit(page) == 200
    assert page.locator("#filters").get_attribute("open") is not None
    assert_fits(page)
    assert_cards(page)
    assert "min_rating=4.2" in page.url
    assert page.input_value("input[name=min_rating]") == "4.2"
    ratings = [float(r) for r in page.locator("#results .rating").all_inner_texts()]
    assert ratings and min(ratings) >= 4.2

    more = page.locator("#results li.result").first.locator("details.more-genres")
    if more.count():
        assert not more.locator("a.genre").first.is_visible()
        more.locator("summary").click()
        assert more.locator("a.genre").first.is_visible()
        assert_fits(page)

    title = page.locator("#results .book-link").first.inner_text()
    page.locator("#results a.more-like-this").first.click()
    page.wait_for_selector("#similar li.result")
    assert page.locator("#book .book-link").inner_text() == title
    assert 1 <= page.locator("#book .genres > a.genre").count() <= 4
    assert_fits(page)
    page.locator("#similar a.more-like-this").first.click()
    page.wait_for_selector("#similar li.result")
    assert_fits(page)

    page.locator("#site-nav a.nav-experiments").click()
    page.wait_for_url("**/experiments")
    assert page.locator("#no-experiment").is_visible()
    assert "vibeshelf models add" in page.locator("#no-experiment").inner_text()
    assert_fits(page)
    page.locator("#site-nav a.nav-search").click()
    page.wait_for_url(server.url + "/")
    assert page.locator("#q").is_visible()
    assert_fits(page)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_error_pages_show_the_message_and_the_way_back(
    server: Server, browser: Browser, width: int
) -> None:
    page = reader_page(browser, server.url, width)
    response = page.goto(server.url + "/books/999999")
    assert response is not None and response.status == 404
    assert_fits(page)
    assert "There is no book with id 999999" in page.locator("#error").inner_text()
    page.locator("#error a.back").click()
    page.wait_for_url(server.url + "/")
    assert page.locator("#q").is_visible()

    response = page.goto(server.url + "/?q=dragons&min_rating=9")
    assert response is not None and response.status == 422
    assert_fits(page)
    assert "Min rating must be a number from 0 to 5" in page.locator("#form-error").inner_text()
    assert page.locator("#filters").get_attribute("open") is not None
    assert page.input_value("#q") == "dragons"
    page.fill("input[name=min_rating]", "")
    assert submit(page) == 200
    assert_cards(page)


@pytest.fixture(scope="module")
def dashboard_url(
    sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A server on a copy of the sample with two search versions in an experiment."""
    data_dir = tmp_path_factory.mktemp("dashboard") / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs"))
    for args in (("models", "add", "s-base-with-a-long-version-name", "--surface", "search"),
                 ("models", "add", "s-popular", "--surface", "search", "--popularity-weight", "0.3"),
                 ("models", "activate", "s-base-with-a-long-version-name"),
                 ("models", "activate", "s-popular")):
        run_cli(*args, data_dir=data_dir)
    srv = Server(data_dir, free_port())
    try:
        srv.wait_ready()
        for i in range(6):  # some served lists, so the charts have lines
            httpx.get(f"{srv.url}/api/search", params={"q": "dragons"},
                      headers={"X-Vibeshelf-Session": f"reader-{i}"}, timeout=30)
        yield srv.url
    finally:
        srv.stop()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_experiments_dashboard_fits_the_screen(
    dashboard_url: str, browser: Browser, width: int
) -> None:
    page = reader_page(browser, dashboard_url, width)
    page.goto(dashboard_url + "/")
    page.locator("#site-nav a.nav-experiments").click()
    page.wait_for_selector("#surface-search tr.version")
    page.wait_for_load_state()  # the stylesheets too: a busy machine can measure before them
    assert page.locator("#surface-search tr.version").count() == 2
    assert page.locator("#surface-search svg.chart").count() == 3
    assert_fits(page)
    page.screenshot(path=f"/tmp/vibeshelf-experiments-{width}.png", full_page=True)
