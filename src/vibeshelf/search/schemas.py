"""Search request and response shapes, shared by the JSON API, the page and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# vector: embeddings only; lexical: BM25 only; hybrid: both, fused by reciprocal rank.
Mode = Literal["vector", "lexical", "hybrid"]
# Bounds of the year and rating filters, shared by the JSON API and the page.
YEAR_MIN, YEAR_MAX = -5000, 3000
RATING_MIN, RATING_MAX = 0.0, 5.0


class SearchParams(BaseModel):
    """One search: the query text plus optional filters."""

    q: str = Field(description="What the book feels like, e.g. 'cozy small-town mystery with a cat'")
    limit: int | None = Field(default=None, ge=1, le=500, description="Results to return")
    shelves: list[str] = Field(default_factory=list, description="Keep books on any of these shelves")
    genres: list[str] = Field(
        default_factory=list, description="Keep books of any of these canonical genres (GET /api/genres)"
    )
    year_min: int | None = Field(
        default=None, ge=YEAR_MIN, le=YEAR_MAX, description="Earliest original publication year"
    )
    year_max: int | None = Field(
        default=None, ge=YEAR_MIN, le=YEAR_MAX, description="Latest original publication year"
    )
    min_rating: float | None = Field(
        default=None, ge=RATING_MIN, le=RATING_MAX, description="Minimum average rating"
    )
    language: str | None = Field(default=None, description="Language code, e.g. 'eng'")
    mode: Mode | None = Field(default=None, description="vector, lexical or hybrid (default from settings)")
    rerank: bool | None = Field(default=None, description="Rerank hybrid results (default from settings)")
    explain: bool = Field(default=False, description="Say why each result matched")


class Explanation(BaseModel):
    """Why a book matched: what it shares with the query, and where each retriever ranked it."""

    shared_shelves: list[str] = Field(description="The book's shelves that share a word with the query")
    matched_genres: list[str] = Field(
        default_factory=list,
        description="The book's genres that share a word with the query",
    )
    shared_words: list[str] = Field(description="Query words found in the book's text")
    vector_rank: int | None = Field(description="Rank among the vector candidates (None: not among them)")
    lexical_rank: int | None = Field(description="Rank among the BM25 candidates (None: not among them)")
    description_rank: int | None = Field(
        description="Rank among the books whose description alone is nearest the query (hybrid mode)"
    )
    exact_match: Literal["title", "author"] | None = Field(
        description="The query is exactly this book's title or author"
    )


class BookResult(BaseModel):
    """One ranked book."""

    rank: int
    book_id: str
    title: str
    authors: list[str]
    year: int | None
    score: float = Field(
        description="What the mode ranked by, never higher than the result above: similarity plus "
        "popularity (vector), BM25 (lexical), the rerank score (hybrid; below the rerank depth the "
        "fused score, shifted under the lowest reranked one) or the fused score (hybrid, no rerank)"
    )
    similarity: float | None = Field(
        description="Cosine similarity between the query and the book (None in lexical mode, "
        "which does not encode the query)"
    )
    average_rating: float | None
    ratings_count: int
    shelves: list[str]
    genres: list[str] = Field(description="Canonical genres, most specific first")
    description: str | None
    description_source: Literal["publisher", "generated"] | None = Field(
        default=None,
        description="publisher: the catalog's own blurb; generated: a summary written by a "
        "language model (shown as such); None without a description",
    )
    url: str | None
    cover_url: str | None
    explanation: Explanation | None = None


class Interpreted(BaseModel):
    """What the search understood the query to ask for, before retrieving anything."""

    kind: Literal["like_book", "author", "title", "vibe"] = Field(
        description="like_book: books like a catalog book; author: an author's books; title: a "
        "title or series typed as it is; vibe: everything else"
    )
    book_id: str | None = Field(default=None, description="The book named (like_book, title)")
    title: str | None = Field(default=None, description="The named book's title")
    author: str | None = Field(default=None, description="The author named (author)")
    series: str | None = Field(default=None, description="The series named (title), shown in order")
    vibe: str = Field(description="The words searched by: what steers a like_book or author answer")
    dropped: list[str] = Field(
        default_factory=list,
        description="Words and sentences that said nothing of the book, and figures of speech "
        "(\"make you cry\", \"baby fever\") searched by their meaning (added) instead",
    )
    added: list[str] = Field(
        default_factory=list,
        description="Words searched beside the query's (vibe): what blurbs say for its mood words "
        "and figures of speech",
    )


class SearchResponse(BaseModel):
    """Ranked results with what produced them."""

    request_id: str
    query: str
    truncated: bool
    mode: Mode
    reranked: bool
    took_ms: float
    model_version: str
    index_build: str
    version: str | None = Field(default=None, description="Experiment version that served it, if any")
    interpreted: Interpreted | None = Field(default=None, description="What the query was read as")
    results: list[BookResult]


class Suggestion(BaseModel):
    """One completion for the search box."""

    text: str
    kind: Literal["title", "author", "shelf", "query"]


class Genre(BaseModel):
    """One canonical genre and how many catalog books have it."""

    name: str
    books: int


class GenresResponse(BaseModel):
    """The catalog's canonical genres, most books first: the values `genre=` accepts."""

    genres: list[Genre]


class SuggestResponse(BaseModel):
    """Completions of what has been typed, best first."""

    q: str
    suggestions: list[Suggestion]
