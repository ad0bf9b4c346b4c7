"""Request and response shapes of the recommendation API."""

from __future__ import annotations

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


class BookOut(BaseModel):
    """A book as a recommendation response shows it."""

    book_id: str
    title: str
    authors: list[str]
    genres: list[str]


class RecommendedBook(BookOut):
    score: float = Field(ge=0.0, le=1.0, description="Predicted preference, clipped to [0, 1]")
    reason: str


class RecommendResponse(BaseModel):
    request_id: str
    model_version: str
    strategy: str = Field(description="als, fold-in or popular")
    version: str | None = Field(default=None, description="Experiment version that served it, if any")
    took_ms: float
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
