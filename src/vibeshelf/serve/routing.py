"""Which experiment version answers a request (the reader's bucket, or today's single service),
and the signed reader session that a request is served under."""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from pydantic import BaseModel

from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.schemas import RecommendRequest, RecommendResponse
from vibeshelf.recommend.service import RecommendService
from vibeshelf.search.schemas import SearchParams, SearchResponse
from vibeshelf.serve.sessions import Session, SessionSigner

VERSION_HEADER = "X-Vibeshelf-Version"
SESSION_HEADER = "X-Vibeshelf-Session"
SESSION_COOKIE = "vibeshelf_session"
SESSION_SECONDS = 30 * 86_400
NO_RECOMMENDER = "no recommender model is loaded: run `vibeshelf train recs`"


def presented_session(request: Request) -> Session | None:
    """The session the client sent back (header, else cookie) if this server signed it."""
    signer: SessionSigner = request.app.state.sessions
    return signer.verify(request.headers.get(SESSION_HEADER)) or signer.verify(
        request.cookies.get(SESSION_COOKIE)
    )


def reader_session(request: Request) -> Session:
    """The request's session: the one presented, else a fresh one (an unsigned or forged id is
    ignored); the same for the whole request."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None:
        signer: SessionSigner = request.app.state.sessions
        session = request.state.session = presented_session(request) or signer.issue()
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


def _experiments(request: Request, surface: str) -> ExperimentRouter | None:
    experiments: ExperimentRouter | None = getattr(request.app.state, "experiments", None)
    return experiments if experiments is not None and experiments.serves(surface) else None


def run_search(request: Request, params: SearchParams) -> SearchResponse:
    """Search by the version this reader's session is routed to, or by the one served index
    without a split; the query log names the session only when it came back signed."""
    session = reader_session(request)
    logged = session.id if session.returning else None
    experiments = _experiments(request, "search")
    if experiments is None:
        response: SearchResponse = request.app.state.runtime.search.search(params, logged)
        return response
    name, response, seconds = experiments.timed(
        "search", session.id, lambda service: service.search(params, logged)
    )
    response.version = name
    experiments.served(
        "search", name, response.request_id, len(response.results), seconds, session.id
    )
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
    session = reader_session(request)
    name, response, seconds = experiments.timed(
        "recommend", body.user_id or session.id, lambda service: service.recommend(body)
    )
    response.version = name
    experiments.served(
        "recommend", name, response.request_id, len(response.recommendations), seconds, session.id
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


