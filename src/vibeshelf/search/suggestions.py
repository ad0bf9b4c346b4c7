"""Query suggestions for the page: vibe phrasings built from shelves that the catalog really has."""

from __future__ import annotations

import random
from collections import Counter

from vibeshelf.catalog.shelves import shelf_phrase

# Shelves that describe a feeling or a setting rather than a format; only those present are used.
VIBE_SHELVES: tuple[str, ...] = (
    "cozy-mystery", "murder-mystery", "british-mystery", "historical-mystery", "detective-fiction",
    "noir", "psychological-thriller", "spy-thriller", "legal-thriller", "techno-thriller",
    "romantic-suspense", "magical-realism", "gothic", "gothic-horror", "southern-fiction",
    "alternate-history", "heroic-fantasy", "historical-fantasy",
    "comic-fantasy", "fairy-tales", "mythology", "greek-mythology", "folklore", "ghosts", "creepy",
    "dragons", "witches", "love-story", "historical-romance", "paranormal-romance",
    "supernatural-romance", "world-war-ii", "military-fiction", "true-crime", "hard-sci-fi",
    "cyberpunk", "space", "aliens", "ya-dystopia", "royalty",
)

TEMPLATES: tuple[str, ...] = (
    "{phrase}",
    "atmospheric {phrase}",
    "{phrase} with a twist",
    "{phrase} I can't put down",
    "{phrase} with unforgettable characters",
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
