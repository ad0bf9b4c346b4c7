"""Traffic split: sticky buckets from a salted hash, and bounded weights that always sum to 100."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

TOTAL = 100.0
BUCKETS = 10_000
_BISECTIONS = 200


def bucket(salt: str, surface: str, unit_id: str) -> float:
    """Where a reader falls in [0, 100): sha256 of the salted id, the same on every worker."""
    digest = hashlib.sha256(f"{salt}:{surface}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS * TOTAL / BUCKETS


def choose(weights: Mapping[str, float], point: float) -> str:
    """The version whose cumulative weight range (in name order) holds `point` in [0, 100).

    Weights are scaled to their sum first, so a version that could not be loaded is skipped.
    """
    live = [(name, w) for name, w in sorted(weights.items()) if w > 0]
    if not live:
        raise LookupError("no version has traffic")
    point = point * sum(w for _, w in live) / TOTAL
    edge = 0.0
    for name, weight in live:
        edge += weight
        if point < edge:
            return name
    return live[-1][0]


def allocate(
    shares: Mapping[str, float], low: Mapping[str, float], high: Mapping[str, float]
) -> dict[str, float]:
    """Weights w_i = clamp(s * share_i, low_i, high_i) with s chosen so that they sum to 100.

    Bisection on s (the sum is monotone in s); rounded to 0.01 with the rounding remainder on
    the largest weight still inside its bounds. ValueError when no weights fit the bounds.
    """
    names = sorted(shares)
    if not names:
        return {}
    if sum(low[n] for n in names) > TOTAL + 1e-9 or sum(high[n] for n in names) < TOTAL - 1e-9:
        raise ValueError(f"no weights summing to {TOTAL:g} fit the bounds {dict(low)}..{dict(high)}")

    def weights(scale: float) -> dict[str, float]:
        return {n: min(high[n], max(low[n], scale * shares[n])) for n in names}

    lo, hi = 0.0, TOTAL / max(min((s for s in shares.values() if s > 0), default=1.0), 1e-12)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if sum(weights(mid).values()) < TOTAL:
            lo = mid
        else:
            hi = mid
    raw = weights(hi)
    if sum(raw.values()) < TOTAL - 1e-6:  # every share is zero: spread what is left evenly
        free = [n for n in names if raw[n] < high[n]]
        for n in free:
            raw[n] = min(high[n], raw[n] + (TOTAL - sum(raw.values())) / len(free))
    rounded = {n: round(w, 2) for n, w in raw.items()}
    adjustable = [n for n in names if low[n] < high[n]] or names
    largest = max(adjustable, key=lambda n: (rounded[n], n))
    rounded[largest] = round(rounded[largest] + TOTAL - sum(rounded.values()), 2)
    return rounded
