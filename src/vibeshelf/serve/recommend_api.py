"""The recommendation API: /api/recommend, /api/books/{id}/similar and /api/events."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from vibeshelf.recommend.schemas import (
    EventRequest,
    EventResponse,
    RecommendRequest,
    RecommendResponse,
    SimilarResponse,
)
from vibeshelf.recommend.service import UnknownBooksError
from vibeshelf.recommend.two_stage_answer import NoRankerError
from vibeshelf.serve.auth import authorize_reader
from vibeshelf.serve.deps import (
    OptionalCaller,
    OptionalRecommender,
    RecommendSplit,
    require_recommender,
)
from vibeshelf.serve.openapi import error_responses
from vibeshelf.serve.routing import run_recommend, versioned_json
from vibeshelf.storage.errors import StorageError

log = logging.getLogger(__name__)

router = APIRouter(tags=["recommend"], responses=error_responses(404, 503))
RECOMMEND_SCOPE = "recommend"
EVENTS_SCOPE = "events"
AUTH_ERRORS = error_responses(401, 403)


@router.post("/api/recommend", response_model=RecommendResponse, responses=AUTH_ERRORS)
def api_recommend(
    request: Request, body: RecommendRequest, caller: OptionalCaller,
    default: OptionalRecommender, split: RecommendSplit,
) -> Response:
    """Books to read next: ALS for a known reader, a fold-in for liked books, else the most read.

    `liked` alone needs no credentials. A `user_id` reveals that reader's history (the reasons
    name books they read), so it needs credentials with the `recommend` scope: a backend's API
    key or token, or a token whose `sub` is that reader.
    """
    if body.user_id is not None:
        authorize_reader(caller, RECOMMEND_SCOPE, body.user_id)
    try:
        answer = run_recommend(request, body, default, split)
        return versioned_json(request, answer, answer.version)
    except UnknownBooksError as exc:
        raise HTTPException(404, str(exc)) from exc
    except NoRankerError as exc:
        raise HTTPException(422, str(exc)) from exc
    except StorageError as exc:
        log.error("interactions store unavailable: %s", exc)
        raise HTTPException(503, "the interactions store is unavailable") from exc


@router.get("/api/books/{book_id}/similar", response_model=SimilarResponse)
def api_similar(
    service: OptionalRecommender,
    book_id: Annotated[str, Path(max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SimilarResponse:
    """More like this book: what its readers also liked, and books whose text reads alike."""
    try:
        return require_recommender(service).similar(book_id, limit)
    except UnknownBooksError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/api/events", response_model=EventResponse, status_code=201, responses=AUTH_ERRORS)
def api_event(
    body: EventRequest, caller: OptionalCaller, service: OptionalRecommender
) -> EventResponse:
    """Record that a reader liked, read or rated a book; later recommendations take it into account.

    Needs credentials with the `events` scope: a backend's API key or token, or a token whose
    `sub` is that reader.
    """
    authorize_reader(caller, EVENTS_SCOPE, body.user_id)
    try:
        return EventResponse(stored=require_recommender(service).record(body))
    except UnknownBooksError as exc:
        raise HTTPException(404, str(exc)) from exc
    except StorageError as exc:
        log.error("interactions store unavailable: %s", exc)
        raise HTTPException(503, "the interactions store is unavailable") from exc
