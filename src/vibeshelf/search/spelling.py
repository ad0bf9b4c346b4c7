"""A vibe query's words as the retrievers read them: abbreviations spelled out, request words dropped."""

from __future__ import annotations

import re

from vibeshelf.catalog.shelves import ALIASES

# A whole word, not part of a hyphenated one ("Ya-Ya" stays).
_ALIAS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ALIASES)) + r")(?![\w-])", re.IGNORECASE)


def spell_out(text: str) -> str:
    """"dystopian YA" -> "dystopian young adult": the words the books' shelf phrases hold, so
    neither retriever matches the abbreviation inside a title ("Ya-Ya Sisterhood")."""
    return _ALIAS.sub(lambda m: ALIASES[m.group(1).lower()], text)


# "book(s)"/"novel(s)" naming what is asked for ("books about motherhood", "a road trip novel"):
# in shelf phrases they match only the organisational half ("childrens-books", "ya-books"), so
# "books about motherhood" drew children's books. In a told plot ("a fireman whose job is to
# burn books meets...") the word is followed by other words and stays.
_REQUEST = re.compile(
    r"(?<![\w-])(?:books?|novels?)(?:(?=\s+(?:about|on|with|for|that|where|which|who|like|set|in|to"
    r"|by|featuring)\b)|(?=\s*[,.;:!?]*\s*$))",
    re.IGNORECASE,
)


def without_request_words(text: str) -> str:
    """"heartbreaking book about a dog" -> "heartbreaking about a dog": the text BM25 reads; the
    text as it is when nothing else would remain."""
    kept = " ".join(_REQUEST.sub(" ", text).split())
    return kept if kept.strip(" ,.;:!?-") else text
