"""Canonical genres: readers' shelves mapped (genre_map.tsv) and ranked most specific first."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from vibeshelf.catalog.shelves import ALIASES, is_noise, normalize_shelf, shelf_phrase

MAP_FILE = Path(__file__).with_name("genre_map.tsv")
NOT_A_GENRE = "-"
# Genres that say least: ranked after every other genre of a book.
BROAD: frozenset[str] = frozenset({"fiction", "nonfiction"})
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


class GenreMapError(ValueError):
    """A genre map file that cannot be read; the message names the line."""


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
    """One key for near-duplicate names: "sci-fi", "scifi" and "science-fiction" share one, as do
    "ya" and "young-adult", "mysteries" and "mystery", "fantasy-sci-fi" and "sci-fi-and-fantasy"."""
    words = _words(shelf)
    telling = [w for w in words if w not in FILLER] or words
    return " ".join(sorted(set(telling)))


@dataclass(frozen=True)
class GenreMap:
    """Shelf -> canonical genres (none: not a genre)."""

    shelves: Mapping[str, tuple[str, ...]]

    @property
    def genres(self) -> list[str]:
        """Every canonical genre, by name."""
        return sorted({g for gs in self.shelves.values() for g in gs})

    @cached_property
    def by_key(self) -> dict[str, tuple[str, ...]]:
        """Mapped shelves' genres by shelf_key, for spellings the map does not list."""
        keys: dict[str, tuple[str, ...]] = {}
        for shelf, genres in sorted(self.shelves.items()):
            keys.setdefault(shelf_key(shelf), genres)
        return keys

    def of_shelf(self, shelf: str) -> tuple[str, ...]:
        """The shelf's genres. An unmapped one takes those of a mapped near-duplicate ("mysteries"
        those of "mystery"), or else is its own genre, as words, unless it is noise."""
        name = normalize_shelf(shelf)
        if name in self.shelves:
            return self.shelves[name]
        if is_noise(name):
            return ()
        return self.by_key.get(shelf_key(name), (shelf_phrase(name),))

    def votes(self, shelves: Iterable[str | None] | None) -> Counter[str]:
        """How many of a book's shelves name each genre."""
        return Counter(g for s in shelves or () if s for g in self.of_shelf(s))


def read_genre_map(path: Path) -> GenreMap:
    """The map file: `shelf<TAB>genres`, genres joined by "; ", or "-" for not a genre."""
    shelves: dict[str, tuple[str, ...]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise GenreMapError(f"{path}:{n}: expected shelf<TAB>genres (or -)")
        shelf, names = fields
        genres = () if names.strip() == NOT_A_GENRE else tuple(g.strip() for g in names.split(";"))
        shelves[normalize_shelf(shelf)] = genres
    return GenreMap(shelves)


@cache
def genre_map() -> GenreMap:
    """The map shipped with the package."""
    return read_genre_map(MAP_FILE)


def rank_genres(books: Sequence[Iterable[str | None] | None]) -> list[list[str]]:
    """Each book's canonical genres from its shelves, most specific first: rare among these books
    and named by many of its shelves; broad ones (fiction) last."""
    votes = [genre_map().votes(shelves) for shelves in books]
    spread: Counter[str] = Counter(g for counted in votes for g in counted)
    return [_most_specific_first(counted, spread, len(books)) for counted in votes]


def _most_specific_first(votes: Counter[str], spread: Counter[str], total: int) -> list[str]:
    """A book's genres by (1 + ln votes) * ln((total + 1) / books with it), broad ones last."""

    def weight(genre: str) -> float:
        return (1 + math.log(votes[genre])) * math.log((total + 1) / spread[genre])

    return sorted(votes, key=lambda g: (g in BROAD, -weight(g), g))
