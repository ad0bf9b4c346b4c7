"""The candidate stage: every configured source proposes books, merged into de-duplicated proposals.

Sources register by name (SOURCES: name -> factory over a SourceContext); settings name the ones to
ask and how many books each may propose (RetrievalSettings). A proposal keeps the score and rank
(1 = best) of every source that proposed it, for the ranker to read as features.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import scipy.sparse as sp

from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.index.base import VectorStore
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.neighbours import ItemItem, VectorLookup
from vibeshelf.recommend.sources import (
    Als,
    CandidateSource,
    Popularity,
    Profile,
    Recommendation,
)
from vibeshelf.recommend.taste import GenrePopular, LikedVectors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceContext:
    """What sources may be built from: the model, the search index's book vectors, and each model
    user's interaction strengths (users x items in model order) where known."""

    model: RecsModel
    store: VectorStore | None = None
    vector_of: VectorLookup | None = None
    strengths: sp.csr_matrix | None = None
    anchors: int = 10


SourceFactory = Callable[[SourceContext], CandidateSource | None]


def _liked_vectors(context: SourceContext) -> CandidateSource | None:
    if context.store is None or context.vector_of is None:
        return None
    return LikedVectors(
        context.model, context.store, context.vector_of, context.strengths, context.anchors
    )


SOURCES: dict[str, SourceFactory] = {
    "als": lambda context: Als(context.model),
    "item-item": lambda context: ItemItem(context.model),
    "liked-vectors": _liked_vectors,
    "genre-popular": lambda context: GenrePopular(context.model),
    "popular": lambda context: Popularity(context.model),
}


@dataclass(frozen=True)
class Proposal:
    """A candidate book with the score and rank (1 = best) each proposing source gave it (a
    source may also score books it did not propose: `scores` can hold more names than `ranks`)."""

    item_id: str
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)


class Retrieval:
    """Asks each (name, source, n) for up to n books and merges them.

    Order: by best rank over the sources, ties in the configured source order, so each source's
    first book comes before any source's second; the list stops at `total`.
    """

    def __init__(self, sources: list[tuple[str, CandidateSource, int]], total: int) -> None:
        self.sources = sources
        self.total = total

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.sources]

    def propose(self, profile: Profile) -> list[Proposal]:
        """Merged proposals for `profile`; a source that cannot personalise proposes nothing."""
        return self.merge([(name, s.personalised(profile, n)) for name, s, n in self.sources])

    def merge(self, results: list[tuple[str, Recommendation | None]]) -> list[Proposal]:
        """Each named source's answer (None: nothing) merged, de-duplicated and capped."""
        found: dict[str, Proposal] = {}
        first: dict[str, tuple[int, int]] = {}
        for order, (name, result) in enumerate(results):
            for rank, candidate in enumerate(result.candidates if result else [], start=1):
                item = candidate.item_id
                proposal = found.get(item)
                if proposal is None:
                    proposal = found[item] = Proposal(item)
                    first[item] = (rank, order)
                elif (rank, order) < first[item]:
                    first[item] = (rank, order)
                proposal.scores[name] = candidate.score
                proposal.ranks[name] = rank
        ordered = sorted(found, key=first.__getitem__)
        return [found[item] for item in ordered[: self.total]]


def build_retrieval(
    settings: RetrievalSettings,
    context: SourceContext,
    factories: dict[str, SourceFactory] | None = None,
) -> Retrieval:
    """The sources `settings` names, built from `context` by `factories` (default: SOURCES); one
    that cannot be built is skipped (logged).

    Raises ValueError for a name no source registered.
    """
    factories = factories or SOURCES
    unknown = sorted(set(settings.sources) - set(factories))
    if unknown:
        raise ValueError(
            f"unknown candidate source(s) {', '.join(unknown)}; known: {', '.join(sorted(factories))}"
        )
    built: list[tuple[str, CandidateSource, int]] = []
    for name, n in settings.sources.items():
        source = factories[name](context)
        if source is None:
            log.warning(
                "candidate source %s skipped: the search index's vectors are not loaded", name
            )
        else:
            built.append((name, source, n))
    return Retrieval(built, settings.total)
