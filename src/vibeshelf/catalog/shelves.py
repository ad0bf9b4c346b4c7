"""Shelf names: drop organisational shelves that say nothing about the book, and phrase the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Shelves readers use to organise their own reading, not to describe the book.
NOISE_SHELVES: frozenset[str] = frozenset({
    "to-read", "currently-reading", "read", "reading", "re-read", "reread", "re-reads",
    "owned", "own", "owned-books", "books-i-own", "i-own", "my-books", "books", "book",
    "favorites", "favourites", "favorite", "favourite", "my-favorites", "all-time-favorites",
    "default", "library", "my-library", "kindle", "ebook", "ebooks", "e-book", "e-books",
    "audiobook", "audiobooks", "audio", "audible", "wish-list", "wishlist", "to-buy",
    "did-not-finish", "dnf", "tbr", "abandoned", "unfinished", "on-hold", "must-read",
})

# The same markers inside longer shelves: "fiction-to-read", "manga-i-own", "favorite-fantasy",
# "read-in-2015", "2015", "02-fantasy" (a user's numbering), "my-manga", "kindle-books".
NOISE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r"(^|-)to-(read|buy)($|-)",
    r"^read-(?!alouds?$)|-read$|-i-ve-read$",
    r"(^|-)(owned|i-own)($|-)",
    r"(^|-)fav(ou?rites?|es?|s)?($|-)",
    r"(^|-)(199\d|20[0-3]\d)($|-)",
    r"^\d{1,2}-[a-z]",
    r"^my-",
    r"(^|-)(kindle|nook|kobo|e-?books?|audio-?books?|audible|pdf|epub)($|-)",
    r"(^|-)(tbr|dnf|wish-?list|did-not-finish|re-?read|library|challenge)($|-)",
))

# Short shelf words spelled out for people (and for the embedding model).
ALIASES: dict[str, str] = {
    "ya": "young adult", "na": "new adult", "mg": "middle grade", "scifi": "sci-fi",
    "sf": "sci-fi", "nonfiction": "non-fiction", "ww2": "world war ii", "wwii": "world war ii",
    "bio": "biography", "childrens": "children's",
}

# Word pairs that keep their hyphen when a shelf becomes a phrase.
HYPHENATED: frozenset[tuple[str, str]] = frozenset({
    ("sci", "fi"), ("non", "fiction"), ("self", "help"), ("post", "apocalyptic"),
    ("pre", "teen"),
})


def normalize_shelf(shelf: str) -> str:
    """Lower-case, hyphen-separated form: " Cozy Mystery " -> "cozy-mystery"."""
    words = re.sub(r"[\s_]+", "-", shelf.strip().lower())
    return re.sub(r"-{2,}", "-", words).strip("-")


def is_noise(shelf: str) -> bool:
    """True for organisational shelves (to-read, owned, favourites, read-in-2015 ...)."""
    name = normalize_shelf(shelf)
    return not name or name in NOISE_SHELVES or any(p.search(name) for p in NOISE_PATTERNS)


def clean_shelves(shelves: Iterable[str | None] | None) -> list[str]:
    """Normalised shelves without noise or repeats, in their original order."""
    seen: dict[str, None] = {}
    for shelf in shelves or ():
        if shelf and not is_noise(shelf):
            seen.setdefault(normalize_shelf(shelf), None)
    return list(seen)


def shelf_phrase(shelf: str) -> str:
    """A shelf as words: "cozy-mystery" -> "cozy mystery", "ya-fantasy" -> "young adult fantasy"."""
    parts = normalize_shelf(shelf).split("-")
    words: list[str] = []
    for part in parts:
        if words and (words[-1], part) in HYPHENATED:
            words[-1] = f"{words[-1]}-{part}"
        elif words and part == "s":  # "children-s-books" -> "children's books"
            words[-1] = f"{words[-1]}'s"
        else:
            words.append(part)
    return " ".join(ALIASES.get(word, word) for word in words)
