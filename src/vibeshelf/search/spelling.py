"""Shelf abbreviations in a vibe query spelled out as the catalog's shelf phrases spell them."""

from __future__ import annotations

import re

from vibeshelf.catalog.shelves import ALIASES

# A whole word, not part of a hyphenated one ("Ya-Ya" stays).
_ALIAS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ALIASES)) + r")(?![\w-])", re.IGNORECASE)


def spell_out(text: str) -> str:
    """"dystopian YA" -> "dystopian young adult": the words the books' shelf phrases hold, so
    neither retriever matches the abbreviation inside a title ("Ya-Ya Sisterhood")."""
    return _ALIAS.sub(lambda m: ALIASES[m.group(1).lower()], text)
