"""The first stage: the merged candidate sources (`Retrieval`) over any reader profile.

The configured sources (`recommend.retrieval`) are built as the recommender builds them, with
changes that let them serve every kind of reader fast: "als" scores with the trained or folded-in
reader vector (`ReaderFactors`); "item-item" reads co-read neighbour lists computed once per model
(`co_read_table`: the cosine between two books' reader sets) instead of a product over every
reader per request; "liked-vectors" asks the configured VectorStore for `width` books per anchor
and merges them at once (`StoreLikedVectors`). Extra sources (the two-tower model when one is
trained and enabled, co-reads of another interactions source) are appended after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.recommend.retrieval import (
    SOURCES,
    Proposal,
    Retrieval,
    SourceContext,
    SourceFactory,
    build_retrieval,
)
from vibeshelf.recommend.sources import CandidateSource, Profile
from vibeshelf.recommend.twostage.neighbour_table import (
    StoreLikedVectors,
    TableItemItem,
    co_read_table,
)
from vibeshelf.recommend.twostage.reader import ReaderFactors

ALS = "als"
ITEM_ITEM = "item-item"
LIKED_VECTORS = "liked-vectors"


class Retrieve(Protocol):
    """The first stage: a reader's candidates, and the names of the sources it asks."""

    @property
    def names(self) -> list[str]: ...

    def __call__(self, profile: Profile) -> list[Proposal]: ...


class CandidateStage:
    """`Retrieval.propose` as the pipeline's first stage, with the names of its sources."""

    def __init__(self, retrieval: Retrieval) -> None:
        self.retrieval = retrieval

    @property
    def names(self) -> list[str]:
        return self.retrieval.names

    def __call__(self, profile: Profile) -> list[Proposal]:
        return self.retrieval.propose(profile)


def candidate_stage(
    settings: RetrievalSettings,
    context: SourceContext,
    width: int,
    extra: Sequence[tuple[str, CandidateSource, int]] = (),
) -> CandidateStage:
    """The configured sources over `context`'s model (item-item neighbour lists `width` long),
    then `extra`; the merge keeps `settings.total`."""
    factories: dict[str, SourceFactory] = {
        **SOURCES,
        ALS: lambda c: ReaderFactors(c.model),
        ITEM_ITEM: lambda c: TableItemItem(c.model, co_read_table(c.model.seen, width)),
        LIKED_VECTORS: lambda c: _liked_vectors(c, width),
    }
    retrieval = build_retrieval(settings, context, factories)
    retrieval.sources.extend(extra)
    return CandidateStage(retrieval)


def _liked_vectors(context: SourceContext, width: int) -> CandidateSource | None:
    if context.store is None or context.vector_of is None:
        return None
    return StoreLikedVectors(context.model, context, width)
