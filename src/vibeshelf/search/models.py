"""Search request and response shapes, shared by the JSON API, the page and the CLI."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SearchParams(BaseModel):
    """One search: the query text plus optional filters."""

    q: str = Field(description="What the book feels like, e.g. 'cozy small-town mystery with a cat'")
    limit: int | None = Field(default=None, ge=1, le=500, description="Results to return")
    shelves: list[str] = Field(default_factory=list, description="Keep books on any of these shelves")
    year_min: int | None = Field(default=None, description="Earliest original publication year")
    year_max: int | None = Field(default=None, description="Latest original publication year")
    min_rating: float | None = Field(default=None, ge=0, le=5, description="Minimum average rating")
    language: str | None = Field(default=None, description="Language code, e.g. 'eng'")


class BookResult(BaseModel):
    """One ranked book."""

    rank: int
    book_id: str
    title: str
    authors: list[str]
    year: int | None
    score: float = Field(description="Cosine similarity between the query and the book")
    rank_score: float = Field(description="Similarity plus the bounded popularity term")
    average_rating: float | None
    ratings_count: int
    shelves: list[str]
    description: str | None
    url: str | None
    cover_url: str | None


class SearchResponse(BaseModel):
    """Ranked results with what produced them."""

    request_id: str
    query: str
    truncated: bool
    took_ms: float
    model_version: str
    index_build: str
    version: str | None = Field(default=None, description="Experiment version that served it, if any")
    results: list[BookResult]
