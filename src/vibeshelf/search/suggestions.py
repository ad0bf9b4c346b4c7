"""Query suggestions for the page: vibe phrasings built from shelves that the catalog really has."""

from __future__ import annotations

import random
from collections import Counter

from vibeshelf.catalog.shelves import shelf_phrase

# Shelves that describe a feeling or a setting rather than a format; only those present are used.
VIBE_SHELVES: tuple[str, ...] = (
    "cozy-mystery", "magical-realism", "southern-gothic", "gothic", "dystopia", "ya-dystopia",
    "space-opera", "cyberpunk", "alternate-history", "historical-mystery", "psychological-thriller",
    "spy-thriller", "legal-thriller", "epic-fantasy", "fantasy-epic", "urban-fantasy",
    "historical-fantasy", "fairy-tales", "mythology", "greek-mythology", "folklore", "ghosts",
    "creepy", "noir", "dragons", "witches", "time-travel", "love-story", "historical-romance",
    "paranormal-romance", "coming-of-age", "southern-fiction", "world-war-ii", "true-crime",
    "comic-fantasy", "hard-sci-fi", "aliens", "royalty", "military-fiction", "road-trip",
    "small-town", "family-saga", "humor", "feel-good", "post-apocalyptic", "survival",
)

TEMPLATES: tuple[str, ...] = (
    "{phrase}",
    "a {phrase} book I can't put down",
    "atmospheric {phrase}",
    "{phrase} with a twist",
    "a gentle {phrase} read",
    "dark {phrase}",
)

MIN_BOOKS = 5


def available_vibes(shelf_counts: Counter[str]) -> list[str]:
    """Vibe shelves that at least MIN_BOOKS catalog books carry."""
    return [s for s in VIBE_SHELVES if shelf_counts.get(s, 0) >= MIN_BOOKS]


def vibe_suggestions(shelf_counts: Counter[str], n: int = 6, seed: int | None = None) -> list[str]:
    """n distinct vibe phrasings, rotated by `seed` (e.g. the current minute)."""
    rng = random.Random(seed)
    shelves = available_vibes(shelf_counts)
    picked = rng.sample(shelves, min(n, len(shelves)))
    return [rng.choice(TEMPLATES).format(phrase=shelf_phrase(s)) for s in picked]
