"""A vibe query's words as BM25 should read them: shelf abbreviations spelled out, request words dropped."""

from __future__ import annotations

import re

from vibeshelf.catalog.shelves import ALIASES

# A whole word, not part of a hyphenated one ("Ya-Ya" stays).
_ALIAS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ALIASES)) + r")(?![\w-])", re.IGNORECASE)


def spell_out(text: str) -> str:
    """"dystopian YA" -> "dystopian young adult": the words the books' shelf phrases hold, so
    neither retriever matches the abbreviation inside a title ("Ya-Ya Sisterhood")."""
    return _ALIAS.sub(lambda m: ALIASES[m.group(1).lower()], text)


# Words that say a book is asked for, not what it is about: in shelf phrases they match only the
# organisational half ("childrens-books", "ya-books"), so "books about motherhood" drew children's books.
_REQUEST = re.compile(r"(?<![\w-])(?:books?|novels?)(?![\w-])", re.IGNORECASE)


def without_request_words(text: str) -> str:
    """"heartbreaking book about a dog" -> "heartbreaking about a dog"; the text as it is when
    nothing else would remain."""
    kept = " ".join(_REQUEST.sub(" ", text).split())
    return kept if kept.strip(" ,.;:!?-") else text
