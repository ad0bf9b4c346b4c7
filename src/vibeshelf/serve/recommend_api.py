"""The recommendation API: /api/recommend, /api/books/{id}/similar and /api/events, plus its loader."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response

from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.index.base import VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.recommend.artifacts import ModelNotFoundError, RecsModel, load_model
from vibeshelf.recommend.schemas import (
    EventRequest,
    EventResponse,
    RecommendRequest,
    RecommendResponse,
    SimilarResponse,
)
from vibeshelf.recommend.service import RecommendService, UnknownBooksError
from vibeshelf.recommend.sources import Content
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.recommend.train import recs_root
from vibeshelf.serve.auth import Authenticator, Principal, authorize_reader, optional_caller
from vibeshelf.serve.errors import install_error_handlers
from vibeshelf.serve.openapi import error_responses
from vibeshelf.serve.routing import NO_RECOMMENDER, run_recommend, versioned_json
from vibeshelf.serve.runtime import limit_blas_threads
from vibeshelf.settings import Settings, get_settings
from vibeshelf.storage.errors import StorageError, StoreError

log = logging.getLogger(__name__)

router = APIRouter(tags=["recommend"], responses=error_responses(404, 503))
RECOMMEND_SCOPE = "recommend"
EVENTS_SCOPE = "events"
AUTH_ERRORS = error_responses(401, 403)


def load_recommender(
    settings: Settings, vector_store: VectorStore | None = None, version: str | None = None
) -> RecommendService | None:
    """The service for model `version` (default: the current one), or None (logged) when missing.

    Content similarity uses `vector_store` (the served search index; opened from settings when not
    given) with the book vectors from `vibeshelf embed`; without them more-like-this is CF only.
    """
    rec = settings.recommend
    try:
        model = load_model(recs_root(settings), version)
    except ModelNotFoundError as exc:
        log.warning("recommendations disabled: %s", exc)
        return None
    store = open_interactions(rec.events_url, settings.data_dir)
    content = (
        _content_source(settings, model, vector_store)
        if model.metadata["item_space"] == "catalog"
        else None
    )
    log.info(
        "recommender model %s (%s), content similarity %s",
        model.version,
        model.metadata["source"],
        "on" if content else "off",
    )
    return RecommendService(model, store, content)


def _content_source(
    settings: Settings, model: RecsModel, vector_store: VectorStore | None
) -> Content | None:
    try:
        embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
        store = vector_store or open_store(settings)
    except (FileNotFoundError, StoreError) as exc:
        log.warning("more-like-this without content similarity: %s", exc)
        return None
    if store.count() == 0:
        log.warning("more-like-this without content similarity: the search index is empty")
        return None
    rows = {book_id: i for i, book_id in enumerate(embeddings.ids)}
    vectors = embeddings.vectors

    def vector_of(book_id: str) -> np.ndarray | None:
        row = rows.get(book_id)
        return None if row is None else vectors[row]

    return Content(model, store, vector_of)


def _service(request: Request) -> RecommendService:
    service: RecommendService | None = getattr(request.app.state, "recommender", None)
    if service is None:
        raise HTTPException(503, NO_RECOMMENDER)
    return service


Caller = Annotated[Principal | None, Depends(optional_caller)]


@router.post("/api/recommend", response_model=RecommendResponse, responses=AUTH_ERRORS)
def api_recommend(request: Request, body: RecommendRequest, caller: Caller) -> Response:
    """Books to read next: ALS for a known reader, a fold-in for liked books, else the most read.

    `liked` alone needs no credentials. A `user_id` reveals that reader's history (the reasons
    name books they read), so it needs credentials with the `recommend` scope: a backend's API
    key or token, or a token whose `sub` is that reader.
    """
    if body.user_id is not None:
        authorize_reader(caller, RECOMMEND_SCOPE, body.user_id)
    try:
        answer = run_recommend(request, body, getattr(request.app.state, "recommender", None))
        return versioned_json(request, answer, answer.version)
    except UnknownBooksError as exc:
        raise HTTPException(404, str(exc)) from exc
    except StorageError as exc:
        log.error("interactions store unavailable: %s", exc)
        raise HTTPException(503, "the interactions store is unavailable") from exc


@router.get("/api/books/{book_id}/similar", response_model=SimilarResponse)
def api_similar(
    request: Request,
    book_id: Annotated[str, Path(max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SimilarResponse:
    """More like this book: what its readers also liked, and books whose text reads alike."""
    try:
        return _service(request).similar(book_id, limit)
    except UnknownBooksError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/api/events", response_model=EventResponse, status_code=201, responses=AUTH_ERRORS)
def api_event(request: Request, body: EventRequest, caller: Caller) -> EventResponse:
    """Record that a reader liked, read or rated a book; later recommendations take it into account.

    Needs credentials with the `events` scope: a backend's API key or token, or a token whose
    `sub` is that reader.
    """
    authorize_reader(caller, EVENTS_SCOPE, body.user_id)
    try:
        return EventResponse(stored=_service(request).record(body))
    except UnknownBooksError as exc:
        raise HTTPException(404, str(exc)) from exc
    except StorageError as exc:
        log.error("interactions store unavailable: %s", exc)
        raise HTTPException(503, "the interactions store is unavailable") from exc


def create_recommend_app(settings: Settings | None = None) -> FastAPI:
    """An app serving only the recommendation API (tests, benchmarks, a recommendations-only node)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_blas_threads(settings.serve.blas_threads)
        app.state.recommender = load_recommender(settings)
        yield
        if app.state.recommender is not None:
            app.state.recommender.close()

    app = FastAPI(title="vibeshelf recommendations", lifespan=lifespan)
    install_error_handlers(app)
    app.state.authenticator = Authenticator(settings.auth)
    app.include_router(router)

    @app.get("/health", tags=["ops"])
    def health(request: Request) -> dict[str, object]:
        service: RecommendService | None = request.app.state.recommender
        return {
            "status": "ok" if service else "degraded",
            "recommender": service.health() if service else None,
        }

    return app
