"""Typed FastAPI dependencies: the parts of the app's Services a route uses, and who calls it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.service import RecommendService
from vibeshelf.serve.auth import Authenticator, Principal, forbidden
from vibeshelf.serve.encode_core import SCOPE as ENCODE_SCOPE
from vibeshelf.serve.encode_core import EncodeApi
from vibeshelf.serve.routing import NO_RECOMMENDER, Split
from vibeshelf.serve.runtime import Runtime
from vibeshelf.serve.services import Services
from vibeshelf.serve.sessions import SessionSigner

NO_EXPERIMENT = "no experiment is configured: add versions with `vibeshelf models`"


async def services(request: Request) -> Services:  # async: a sync dependency takes a thread hop
    """The app's Services, set by its lifespan."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def _not_loaded(what: str) -> HTTPException:
    return HTTPException(503, f"{what} is not loaded")


async def search_runtime(found: ServicesDep) -> Runtime:
    if found.runtime is None:
        raise _not_loaded("the search index")
    return found.runtime


async def optional_recommender(found: ServicesDep) -> RecommendService | None:
    return found.recommender


async def experiments(found: ServicesDep) -> ExperimentRouter | None:
    """The experiment router, or None without a registry; a look for a new one (disk) takes a thread."""
    live = found.experiments
    if live is None:
        return None
    return live.current() if live.settled() else await run_in_threadpool(live.current)


OptionalRecommender = Annotated[RecommendService | None, Depends(optional_recommender)]
OptionalExperiments = Annotated[ExperimentRouter | None, Depends(experiments)]


def require_recommender(found: RecommendService | None) -> RecommendService:
    """`found`, or a 503 without a model: called in a route, so that its 422s come first."""
    if found is None:
        raise HTTPException(503, NO_RECOMMENDER)
    return found


def require_experiments(found: ExperimentRouter | None) -> ExperimentRouter:
    """`found`, or a 404 without a registry: called in a route, so that its 422s come first."""
    if found is None:
        raise HTTPException(404, NO_EXPERIMENT)
    return found


def required_experiments(found: OptionalExperiments) -> ExperimentRouter:
    return require_experiments(found)


async def session_signer(found: ServicesDep) -> SessionSigner:
    if found.sessions is None:
        raise _not_loaded("the reader session signer")
    return found.sessions


def experiment_split(surface: str) -> Callable[..., Awaitable[Split | None]]:
    """A dependency yielding the experiment running on `surface`, if any, with the session
    signer its readers are bucketed by."""

    async def split(found: ServicesDep, router: OptionalExperiments) -> Split | None:
        if router is None or found.sessions is None or not router.serves(surface):
            return None
        return Split(router, found.sessions)

    return split


async def encode_api(found: ServicesDep) -> EncodeApi:
    if found.encode is None:
        raise _not_loaded("the embedding service")
    return found.encode


@dataclass(frozen=True)
class SearchCall:
    """What GET /api/search runs with."""

    runtime: Runtime
    signer: SessionSigner
    split: Split | None


_search_split = experiment_split("search")


async def search_call(request: Request) -> SearchCall:
    """The search index, the session signer and the search experiment, resolved in that order as
    one dependency: FastAPI solves each dependency of a request in its own step, and the API's
    busiest route needs no step per part."""
    found = await services(request)
    runtime = await search_runtime(found)
    signer = await session_signer(found)
    return SearchCall(runtime, signer, await _search_split(found, await experiments(found)))


SearchRuntime = Annotated[Runtime, Depends(search_runtime)]
Experiments = Annotated[ExperimentRouter, Depends(required_experiments)]
Signer = Annotated[SessionSigner, Depends(session_signer)]
SearchSplit = Annotated[Split | None, Depends(_search_split)]
SearchCallDep = Annotated[SearchCall, Depends(search_call)]
RecommendSplit = Annotated[Split | None, Depends(experiment_split("recommend"))]
Api = Annotated[EncodeApi, Depends(encode_api)]

_bearer = HTTPBearer(auto_error=False, description="An API key or an HS256 JWT")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key")


async def authenticator(found: ServicesDep) -> Authenticator:
    return found.authenticator


# What the routes that authenticate through `encode_call` declare in OpenAPI (the schemes are
# documented by the routes that take them as dependencies, such as GET /v1/models).
CALLER_SECURITY: dict[str, Any] = {"security": [{_bearer.scheme_name: []}, {_api_key.scheme_name: []}]}


async def optional_caller(
    request: Request,
    auth: Annotated[Authenticator, Depends(authenticator)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    """The caller when credentials were sent (401 if invalid), else None."""
    token = bearer.credentials if bearer else api_key
    return auth.presented(token, request.client.host if request.client else "-")


def scoped(auth: Authenticator, caller: Principal | None, scope: str | None) -> Principal:
    """`caller`; 401 when there is none, 403 when it lacks `scope`."""
    caller = caller or auth.authenticate(None)
    if scope is not None and not caller.allows(scope):
        raise forbidden(scope, f"these credentials lack the {scope!r} scope")
    return caller


def require_scope(scope: str | None) -> Callable[..., Awaitable[Principal]]:
    """A dependency yielding the caller; 401 without valid credentials, 403 without `scope`."""

    async def principal(
        auth: Annotated[Authenticator, Depends(authenticator)],
        caller: Annotated[Principal | None, Depends(optional_caller)],
    ) -> Principal:
        return scoped(auth, caller, scope)

    return principal


@dataclass(frozen=True)
class EncodeCall:
    """What an encode route runs with: the embedding service and its caller."""

    api: EncodeApi
    caller: Principal


async def encode_call(request: Request) -> EncodeCall:
    """The embedding service (503 when not loaded), then its caller (401, or 403 without the
    `encode` scope), resolved as one dependency: FastAPI solves each dependency of a request in its
    own step, and the service's busiest routes need no step per part. Routes taking it declare
    CALLER_SECURITY for OpenAPI."""
    found = await services(request)
    api = await encode_api(found)
    auth = found.authenticator
    caller = await optional_caller(request, auth, await _bearer(request), await _api_key(request))
    return EncodeCall(api, scoped(auth, caller, ENCODE_SCOPE))


OptionalCaller = Annotated[Principal | None, Depends(optional_caller)]
EncodeCallDep = Annotated[EncodeCall, Depends(encode_call)]
AnyCaller = Depends(require_scope(None))
