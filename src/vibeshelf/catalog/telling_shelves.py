"""The few shelves that tell most about a book: one of each near-duplicate, rarest first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vibeshelf.catalog.shelves import ALIASES, normalize_shelf

SHOWN = 4
# Words that say little beside others: "historical-fiction" is "historical", "ya-books" is "ya".
FILLER: frozenset[str] = frozenset({
    "and", "s", "the", "of", "book", "novel", "fiction", "literature", "genre",
})
SPELLINGS: dict[str, str] = {
    "lit": "literature", "fic": "fiction", "historic": "historical", "sciencefiction": "scifi",
    "humour": "humor", "humorous": "humor", "funny": "humor",
}
# Two words that are one idea, so that a filler word in them is not dropped ("science-fiction").
COMPOUNDS: dict[tuple[str, str], str] = {
    ("sci", "fi"): "scifi", ("science", "fiction"): "scifi", ("non", "fiction"): "nonfiction",
    ("young", "adult"): "youngadult", ("middle", "grade"): "middlegrade", ("new", "adult"): "newadult",
}
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ShelfPicks:
    """A book's shelves to show at once, and the rest (for a "more" toggle)."""

    shown: list[str]
    more: list[str]


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(shelf: str) -> list[str]:
    """The shelf's words, short forms spelled out, in the singular, compounds joined."""
    words = [
        SPELLINGS.get(w, w)
        for part in normalize_shelf(shelf).split("-")
        for w in _WORD.findall(ALIASES.get(part, part))
    ]
    joined: list[str] = []
    for word in map(_singular, words):
        compound = COMPOUNDS.get((joined[-1], word)) if joined else None
        if compound:
            joined[-1] = compound
        else:
            joined.append(word)
    return joined


def shelf_key(shelf: str) -> str:
    """One key for near-duplicate shelves: "sci-fi", "scifi" and "science-fiction" share one, as do
    "ya" and "young-adult", "mysteries" and "mystery", "fantasy-sci-fi" and "sci-fi-and-fantasy"."""
    words = _words(shelf)
    telling = [w for w in words if w not in FILLER] or words
    return " ".join(sorted(set(telling)))


def pick_shelves(shelves: Iterable[str], counts: Mapping[str, int], shown: int = SHOWN) -> ShelfPicks:
    """One shelf per near-duplicate group (the spelling most books carry), rarest in the catalog
    first; shelves no other book carries go last, as they link to nothing more."""
    groups: dict[str, str] = {}
    for shelf in shelves:
        key = shelf_key(shelf)
        kept = groups.get(key)
        if kept is None or counts.get(shelf, 0) > counts.get(kept, 0):
            groups[key] = shelf
    ordered = sorted(groups.values(), key=lambda s: (counts.get(s, 0) < 2, counts.get(s, 0), s))
    return ShelfPicks(shown=ordered[:shown], more=ordered[shown:])
