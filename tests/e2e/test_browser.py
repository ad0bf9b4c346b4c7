"""The page in headless Chromium: click a suggestion, see results render, open an explanation."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


def test_clicking_a_suggestion_shows_results(server: Server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
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
        browser.close()
