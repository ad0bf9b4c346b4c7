"""Request and response shapes of the recommendation API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_CUTOFF = 100
MAX_LIKED = 500


class RecommendRequest(BaseModel):
    """A known user, books liked in an anonymous session, or both."""

    user_id: str | None = Field(default=None, min_length=1, max_length=200, description="Reader id")
    liked: list[str] = Field(
        default_factory=list,
        max_length=MAX_LIKED,
        description="Book ids liked in this session; a new reader vector is solved from them",
    )
    cutoff: int = Field(default=10, ge=1, le=MAX_CUTOFF, description="How many books to return")
    pipeline: Literal["als", "two-stage"] | None = Field(
        default=None,
        description="als: the ALS / fold-in / popular chain; two-stage: candidates ranked by the "
        "learned ranker, then boosts and rules (a reader the model knows, with no newer events; "
        "others get als). Default from settings",
    )
    debug: bool = Field(default=False, description="Add per-stage timings and counts (two-stage)")


class BookOut(BaseModel):
    """A book as a recommendation response shows it."""

    book_id: str
    title: str
    authors: list[str]
    genres: list[str]


class RecommendedBook(BookOut):
    score: float = Field(ge=0.0, le=1.0, description="Predicted preference, clipped to [0, 1]")
    reason: str
    sources: list[str] = Field(default_factory=list, description="Candidate sources that proposed it (two-stage)")
    ranker_score: float | None = Field(default=None, description="The learned ranker's raw score (two-stage)")


class RuleMove(BaseModel):
    """A business rule moved or removed a book (1-based positions; `to` null: removed)."""

    book_id: str
    rule: str
    from_position: int
    to_position: int | None


class PipelineReport(BaseModel):
    """What the two-stage pipeline did: rule moves and relaxations; with debug, timings and counts."""

    ranker_version: str
    reader: str = Field(
        default="model", description="model (trained vector), liked (a liked list), history "
        "(a reader the model does not know, or with books read since: folded in) or new (nothing "
        "known: the popular candidates, ranked and shaped by the rules)"
    )
    sources: list[str] = Field(default_factory=list, description="The candidate sources asked")
    rules: list[str] = Field(default_factory=list, description="The business rules applied")
    boosts: list[str] = Field(default_factory=list, description="The boosts applied")
    moves: list[RuleMove]
    relaxations: list[str]
    timings_ms: dict[str, float] | None = None
    counts: dict[str, int] | None = None


class RecommendResponse(BaseModel):
    request_id: str
    model_version: str
    strategy: str = Field(description="als, fold-in or popular")
    version: str | None = Field(default=None, description="Experiment version that served it, if any")
    took_ms: float
    pipeline: str = Field(default="als", description="The pipeline that answered: als or two-stage")
    two_stage: PipelineReport | None = None
    cached: bool = Field(
        default=False, description="Answered from the recommendation cache (the same inputs and model)"
    )
    recommendations: list[RecommendedBook]


class SimilarBook(RecommendedBook):
    source: str = Field(description="item-item (readers' behaviour) or content (the book's text)")


class SimilarResponse(BaseModel):
    request_id: str
    model_version: str
    book: BookOut
    similar: list[SimilarBook]


class EventRequest(BaseModel):
    """A reader's interaction with a book: rating is 1-5 stars; `like` without one is a full-strength like."""

    user_id: str = Field(min_length=1, max_length=200)
    book_id: str = Field(min_length=1, max_length=200)
    event: str = Field(default="like", pattern="^[a-z][a-z_-]{0,31}$")
    rating: float | None = Field(default=None, ge=1.0, le=5.0)


class EventResponse(BaseModel):
    stored: int
