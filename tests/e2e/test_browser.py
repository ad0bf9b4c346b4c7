"""The page in headless Chromium: suggestions, results, explanations and search-box completions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import Server
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.search.ranking import words_key
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
