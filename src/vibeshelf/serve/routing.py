"""Which experiment version answers a request (the reader's bucket, or today's single service),
and the signed reader session that a request is served under."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response
from pydantic import BaseModel

from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.schemas import RecommendRequest, RecommendResponse
from vibeshelf.recommend.service import RecommendService
from vibeshelf.search.schemas import SearchParams, SearchResponse
from vibeshelf.search.service import SearchService
from vibeshelf.serve import served_events
from vibeshelf.serve.sessions import Session, SessionSigner

VERSION_HEADER = "X-Vibeshelf-Version"
SESSION_HEADER = "X-Vibeshelf-Session"
SESSION_COOKIE = "vibeshelf_session"
SESSION_SECONDS = 30 * 86_400
NO_RECOMMENDER = "no recommender model is loaded: run `vibeshelf train recs`"


@dataclass(frozen=True)
class Split:
    """An experiment running on a surface, and the signer of the sessions it buckets readers by."""

    experiments: ExperimentRouter
    signer: SessionSigner


def presented_session(request: Request, signer: SessionSigner) -> Session | None:
    """The session the client sent back (header, else cookie) if `signer` signed it."""
    return signer.verify(request.headers.get(SESSION_HEADER)) or signer.verify(
        request.cookies.get(SESSION_COOKIE)
    )


def reader_session(request: Request, signer: SessionSigner) -> Session:
    """The request's session: the one presented, else a fresh one (an unsigned or forged id is
    ignored); the same for the whole request."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None:
        session = request.state.session = presented_session(request, signer) or signer.issue()
    return session


def hand_out_session(request: Request, response: Response) -> None:
    """Give the client the session this request was served under when it was issued just now:
    as the X-Vibeshelf-Session header and as an HttpOnly cookie."""
    session: Session | None = getattr(request.state, "session", None)
    if session is not None and not session.returning:
        response.headers[SESSION_HEADER] = session.token
        response.set_cookie(
            SESSION_COOKIE, session.token, max_age=SESSION_SECONDS, httponly=True, samesite="lax"
        )


def run_search(
    request: Request, params: SearchParams, search: SearchService, signer: SessionSigner,
    split: Split | None,
) -> SearchResponse:
    """Search by the version this reader's session is routed to in `split`, or by `search`
    without one; the query log names the session only when it came back signed. The list served
    goes to analytics."""
    session = reader_session(request, signer)
    logged = session.id if session.returning else None
    if split is None:
        started = time.perf_counter()
        response = search.search(params, logged)
        seconds = time.perf_counter() - started
    else:
        name, response, seconds = split.experiments.timed(
            "search", session.id, lambda service: service.search(params, logged)
        )
        response.version = name
        split.experiments.served(
            "search", name, response.request_id, len(response.results), seconds, session.id
        )
    books = (r.book_id for r in response.results)
    served_events.served(request, "search", response.request_id, response.version, books, seconds)
    return response


def run_recommend(
    request: Request, body: RecommendRequest, default: RecommendService | None, split: Split | None
) -> RecommendResponse:
    """Recommend by the reader's routed version in `split`, or by `default` without one (503 if
    none). The list served goes to analytics."""
    if split is None:
        if default is None:
            raise HTTPException(503, NO_RECOMMENDER)
        started = time.perf_counter()
        response = default.recommend(body)
        seconds = time.perf_counter() - started
    else:
        session = reader_session(request, split.signer)
        name, response, seconds = split.experiments.timed(
            "recommend", body.user_id or session.id, lambda service: service.recommend(body)
        )
        response.version = name
        split.experiments.served(
            "recommend", name, response.request_id, len(response.recommendations), seconds,
            session.id,
        )
    books = (r.book_id for r in response.recommendations)
    served_events.served(
        request, "recommend", response.request_id, response.version, books, seconds
    )
    return response


def versioned_json(request: Request, body: BaseModel, version: str | None) -> Response:
    """`body` serialised by pydantic directly (the documented model, without re-validation), with
    the experiment version header when a version served it and a session issued just now."""
    reply = Response(body.model_dump_json(), media_type="application/json")
    version_header(reply, version)
    hand_out_session(request, reply)
    return reply


def version_header(response: Response, version: str | None) -> None:
    if version is not None:
        response.headers[VERSION_HEADER] = version


