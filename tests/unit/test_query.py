"""Query sanitising."""

import pytest

from vibeshelf.search.query import QueryError, sanitize_query


def test_trims_and_collapses_whitespace() -> None:
    assert sanitize_query("  cozy \n\t mystery  ", 100).text == "cozy mystery"


def test_strips_control_characters() -> None:
    assert sanitize_query("cozy\x00\x1b[31m mystery\u200b", 100).text == "cozy [31m mystery"


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", None, "\x00\x01"])
def test_rejects_empty(raw: str | None) -> None:
    with pytest.raises(QueryError, match="empty"):
        sanitize_query(raw, 100)


def test_caps_length_at_a_word_boundary() -> None:
    query = sanitize_query("word " * 100, 42)
    assert query.truncated
    assert len(query.text) <= 42
    assert query.text.endswith("word")


def test_short_query_is_not_truncated() -> None:
    assert sanitize_query("funny sci-fi", 42).truncated is False
