"""Ranking: similarity first, popularity second, and edition de-duplication.

    rank_score = similarity + w * log(1 + ratings_count) / log(1 + max_ratings_count)

The popularity term lies in [0, w] (w = search.popularity_weight, default 0.02), so a book that
is more similar by more than w always ranks higher; popularity only reorders near-ties. Exact
ties fall back to more ratings, then book id, so the order is deterministic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

_SERIES = re.compile(r"\s*\([^)]*#[^)]*\)\s*$")
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Candidate:
    """A book that came back from KNN, with what ranking needs."""

    book_id: str
    similarity: float
    ratings_count: int
    work_key: str
    title_key: str


def popularity(ratings_count: int, max_ratings_count: int) -> float:
    """Log-scaled popularity in [0, 1]."""
    if max_ratings_count <= 0 or ratings_count <= 0:
        return 0.0
    return min(1.0, math.log1p(ratings_count) / math.log1p(max_ratings_count))


def rank_score(similarity: float, ratings_count: int, max_ratings_count: int, weight: float) -> float:
    return similarity + weight * popularity(ratings_count, max_ratings_count)


def rank(
    candidates: Iterable[Candidate], max_ratings_count: int, weight: float, dedupe: bool = True
) -> list[tuple[Candidate, float]]:
    """Candidates with their rank scores, best first, one per work unless `dedupe` is off."""
    scored = [
        (c, rank_score(c.similarity, c.ratings_count, max_ratings_count, weight)) for c in candidates
    ]
    scored.sort(key=lambda cs: (-cs[1], -cs[0].ratings_count, cs[0].book_id))
    return dedupe_editions(scored) if dedupe else scored


def dedupe_editions(scored: list[tuple[Candidate, float]]) -> list[tuple[Candidate, float]]:
    """Keep the best-ranked edition of each work.

    Two books are editions of one work when they share a work id or a title and first author, and
    the relation is transitive (A and B share a work id, B and C a title: A, B and C are one work),
    so the candidates are grouped with a union-find over their keys before the best of each group
    is kept.
    """
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for cand, _ in scored:
        first, *rest = [k for k in (cand.work_key, cand.title_key) if k] or [cand.book_id]
        for key in rest:
            parent[root(key)] = root(first)
    seen: set[str] = set()
    kept = []
    for cand, score in scored:
        group = root(cand.work_key or cand.title_key or cand.book_id)
        if group not in seen:
            seen.add(group)
            kept.append((cand, score))
    return kept


def words_key(text: str) -> str:
    """Lower-case words without a series suffix: "Dune (Dune Chronicles #1)" -> "dune"."""
    return " ".join(_NON_WORD.sub(" ", _SERIES.sub("", text).lower()).split())


def title_key(title: str, first_author: str) -> str:
    """Normalised "title|author" with the series suffix removed: "Dune (Dune #1)" -> "dune|..."."""
    return words_key(title) + "|" + words_key(first_author)
