"""GET /api/search: its query parameters as one model, and a route that validates them in one step."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.datastructures import QueryParams

from vibeshelf.search import schemas
from vibeshelf.search.schemas import Mode, SearchParams, SearchResponse
from vibeshelf.serve.deps import SearchCall, SearchCallDep, search_call
from vibeshelf.serve.openapi import error_responses
from vibeshelf.serve.routing import run_search, versioned_json

# Sized so that any search within them, percent-encoded, fits the HTTP server's 64 KiB request line.
MAX_QUERY_CHARS = 3000
MAX_SHELVES = 20
Shelf = Annotated[str, StringConstraints(max_length=64)]


class SearchQuery(BaseModel):
    """The query parameters of GET /api/search."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(description="What the book feels like", max_length=MAX_QUERY_CHARS)
    limit: int | None = Field(default=None, ge=1, le=500)
    shelf: list[Shelf] | None = Field(
        default=None, max_length=MAX_SHELVES, description="Keep books on any of these shelves"
    )
    genre: list[Shelf] | None = Field(
        default=None, max_length=MAX_SHELVES,
        description="Keep books of any of these canonical genres (GET /api/genres lists them)",
    )
    year_min: int | None = Field(default=None, ge=schemas.YEAR_MIN, le=schemas.YEAR_MAX)
    year_max: int | None = Field(default=None, ge=schemas.YEAR_MIN, le=schemas.YEAR_MAX)
    min_rating: float | None = Field(default=None, ge=schemas.RATING_MIN, le=schemas.RATING_MAX)
    language: str | None = Field(default=None, max_length=35, description="e.g. 'eng'")
    mode: Mode | None = Field(default=None, description="vector, lexical or hybrid (default: hybrid)")
    rerank: bool | None = Field(default=None, description="Rerank hybrid results (default: on)")
    explain: bool = Field(default=False, description="Say why each result matched")

    def params(self) -> SearchParams:
        """The search these parameters ask for."""
        return SearchParams(
            q=self.q, limit=self.limit, shelves=self.shelf or [], genres=self.genre or [],
            year_min=self.year_min, year_max=self.year_max, min_rating=self.min_rating,
            language=self.language, mode=self.mode, rerank=self.rerank, explain=self.explain,
        )


LISTED = frozenset({"shelf", "genre"})


def parsed_query(query: QueryParams) -> SearchQuery | None:
    """The request's SearchQuery, read as FastAPI reads query parameters (a list field takes
    every value, any other the last); None when it does not validate."""
    fields: dict[str, Any] = {
        name: query.getlist(name) if name in LISTED else value
        for name, value in query.items()
        if name in SearchQuery.model_fields
    }
    try:
        return SearchQuery.model_validate(fields)
    except ValidationError:
        return None


def answer(request: Request, query: SearchQuery, call: SearchCall) -> Response:
    """The search's JSON response (SearchResponse) with its session and version headers."""
    response = run_search(request, query.params(), call.runtime.search, call.signer, call.split)
    return versioned_json(request, response, response.version)


class SearchRoute(APIRoute):
    """The route of GET /api/search, documented and validated by FastAPI from its signature, but
    with a shortcut for the busy path: a query that validates as a SearchQuery in one pydantic
    call skips FastAPI's parameter-by-parameter solving; any other request takes FastAPI's own
    path, so its errors (422 and all) are FastAPI's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        solved = super().get_route_handler()

        async def handler(request: Request) -> Response:
            query = parsed_query(request.query_params)
            if query is None:
                return await solved(request)
            return await run_in_threadpool(answer, request, query, await search_call(request))

        return handler


router = APIRouter(route_class=SearchRoute)


@router.get(
    "/api/search", response_model=SearchResponse, tags=["search"], responses=error_responses(503)
)
def api_search(
    request: Request, query: Annotated[SearchQuery, Query()], call: SearchCallDep
) -> Response:
    """Books for the query, ranked as `mode` says (default hybrid with rerank, from settings).

    - `vector`: cosine similarity to the query, then popularity, which only reorders near-ties.
    - `lexical`: BM25 over title, authors, canonical genres and description.
    - `hybrid`: the vector and BM25 candidates fused by reciprocal rank (RRF), then the fused
      top `rerank_depth` (50) reordered by a learned linear rerank; `rerank=false` keeps RRF.

    In lexical and hybrid modes a query that is exactly a title or an author's name puts up to
    three of those books first. A reader in an experiment gets their version's ranking settings.
    """
    return answer(request, query, call)
