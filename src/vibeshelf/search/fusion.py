"""Reciprocal rank fusion: score(d) = sum over rankings of 1 / (k + rank of d), rank from 1."""

from __future__ import annotations

from collections.abc import Sequence


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Ids from all rankings by fused score, best first; ties go to the better best rank, then id."""
    if k < 1:
        raise ValueError("the RRF constant k must be at least 1")
    scores: dict[str, float] = {}
    best: dict[str, int] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            share = 1.0 / (k + rank)
            fused = scores.get(item)
            if fused is None:
                scores[item] = share
                best[item] = rank
            else:
                scores[item] = fused + share
                best[item] = min(best[item], rank)
    keyed = sorted([(-score, best[item], item) for item, score in scores.items()])
    return [(item, -negated) for negated, _, item in keyed]
