"""The two-stage pipeline: retrieve -> features -> rank -> boosts -> rules, timed and counted per stage.

Boosts run before the rules so that the rules hold on the final list: a boost may lift a book, but
never past a genre cap or a filter. Every stage is a plug: any first stage returning Proposals,
any feature source returning the ranker's columns, any object with `predict(frame)`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.twostage.books import BookFacts
from vibeshelf.recommend.twostage.boosts import Boost, apply_boosts
from vibeshelf.recommend.twostage.candidates import Retrieve
from vibeshelf.recommend.twostage.features import Features
from vibeshelf.recommend.twostage.ranked import ListContext, Move, Ranked, Relaxation
from vibeshelf.recommend.twostage.rules import Rule, apply_rules


class Scorer(Protocol):
    """The ranker stage: a score per feature row, higher first."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray: ...


@dataclass
class PipelineResult:
    """The top k with reasons, what the rules did, and per-stage timings (ms) and counts."""

    items: list[Ranked]
    moves: list[Move] = field(default_factory=list)
    relaxations: list[Relaxation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class TwoStagePipeline:
    """Candidates from `retrieve`, features, the ranker's order, then boosts and rules."""

    def __init__(
        self,
        retrieve: Retrieve,
        features: Features,
        ranker: Scorer,
        rules: Sequence[Rule] = (),
        boosts: Sequence[Boost] = (),
        books: Mapping[str, BookFacts] | None = None,
        read: Callable[[Profile], Collection[str]] = lambda profile: profile.seen,
    ) -> None:
        self.retrieve = retrieve
        self.features = features
        self.ranker = ranker
        self.rules = list(rules)
        self.boosts = list(boosts)
        self.books = books or {}
        self.read = read

    def __call__(self, profile: Profile, k: int = 10) -> PipelineResult:
        """The top k for a reader: a model reader, a liked list, or a reader with a stored history
        (the caller passes the books read in `profile`; nothing here reads them again)."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round((now - clock) * 1000, 3)
            clock = now

        proposals = self.retrieve(profile)
        lap("retrieve")
        frame = self.features(profile, proposals)
        lap("features")
        raw = self.ranker.predict(frame)
        ranked = self._ranked(proposals, raw)
        lap("rank")
        context = ListContext.of(k, frozenset(self.read(profile)), self.books)
        boosted = apply_boosts(ranked, self.boosts, context)
        lap("boosts")
        outcome = apply_rules(boosted, self.rules, context)
        lap("rules")
        per_source = Counter(s for p in proposals for s in p.ranks)
        counts = {
            "candidates": len(proposals),
            **{f"source_{s}": n for s, n in sorted(per_source.items())},
            "after_rules": len(outcome.items),
            "returned": min(k, len(outcome.items)),
        }
        top = outcome.items[:k]
        for item in top:  # the ranker's line first, for the books returned only
            item.reasons.insert(0, f"ranker {item.ranker_score:.3f} from {', '.join(item.sources)}")
        return PipelineResult(top, outcome.moves, outcome.relaxations, timings, counts)

    def _ranked(self, proposals: Sequence[Proposal], raw: np.ndarray) -> list[Ranked]:
        """Proposals by ranker score, scores scaled to [0, 1] over the list (ties in proposal
        order)."""
        span = float(raw.max() - raw.min()) if len(raw) else 0.0
        scaled = (raw - raw.min()) / span if span > 0 else np.ones_like(raw)
        blank = BookFacts()
        return [
            Ranked(
                proposals[i].item_id,
                float(scaled[i]),
                self.books.get(proposals[i].item_id, blank),
                float(raw[i]),
                tuple(sorted(proposals[i].ranks)),
            )
            for i in np.argsort(-scaled, kind="stable")
        ]
