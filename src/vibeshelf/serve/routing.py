"""Which experiment version answers a request: the reader's bucket, or today's single service."""

from __future__ import annotations

import uuid

from fastapi import HTTPException, Request, Response
from pydantic import BaseModel

from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.schemas import RecommendRequest, RecommendResponse
from vibeshelf.recommend.service import RecommendService
from vibeshelf.search.schemas import SearchParams, SearchResponse

VERSION_HEADER = "X-Vibeshelf-Version"
SESSION_HEADER = "X-Vibeshelf-Session"
SESSION_COOKIE = "vibeshelf_session"
NO_RECOMMENDER = "no recommender model is loaded: run `vibeshelf train recs`"


def unit_id(request: Request, user_id: str | None = None) -> str:
    """Who is routed: the reader id, else the session header or cookie, else a one-off id."""
    return (
        user_id or request.headers.get(SESSION_HEADER) or request.cookies.get(SESSION_COOKIE)
        or uuid.uuid4().hex
    )


def _experiments(request: Request, surface: str) -> ExperimentRouter | None:
    experiments: ExperimentRouter | None = getattr(request.app.state, "experiments", None)
    return experiments if experiments is not None and experiments.serves(surface) else None


def run_search(request: Request, params: SearchParams, unit: str | None = None) -> SearchResponse:
    """Search by the version this reader is routed to, or by the one served index without a split."""
    experiments = _experiments(request, "search")
    if experiments is None:
        response: SearchResponse = request.app.state.runtime.search.search(params)
        return response
    name, response, seconds = experiments.timed(
        "search", unit or unit_id(request), lambda service: service.search(params)
    )
    response.version = name
    experiments.served("search", name, response.request_id, len(response.results), seconds)
    return response


def run_recommend(
    request: Request, body: RecommendRequest, default: RecommendService | None
) -> RecommendResponse:
    """Recommend by the reader's routed version, or by `default` without a split (503 if none)."""
    experiments = _experiments(request, "recommend")
    if experiments is None:
        if default is None:
            raise HTTPException(503, NO_RECOMMENDER)
        return default.recommend(body)
    name, response, seconds = experiments.timed(
        "recommend", unit_id(request, body.user_id), lambda service: service.recommend(body)
    )
    response.version = name
    experiments.served("recommend", name, response.request_id, len(response.recommendations), seconds)
    return response


def versioned_json(body: BaseModel, version: str | None) -> Response:
    """`body` serialised by pydantic directly (the documented model, without re-validation), with
    the experiment version header when a version served it."""
    reply = Response(body.model_dump_json(), media_type="application/json")
    version_header(reply, version)
    return reply


def version_header(response: Response, version: str | None) -> None:
    if version is not None:
        response.headers[VERSION_HEADER] = version


