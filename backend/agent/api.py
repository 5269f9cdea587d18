"""The agent API: one ASGI app that serves everything under an environment's `…/proxy/`
(the Kafka Connect, event and Redpanda Connect families of the later issues, and `/api/agent`).

It is made from an AgentContext alone and reads nothing of HQ (no store, no HQ app state, no HQ
token): HQ's built-in agent calls it in-process, a standalone agent will serve the same app over
its link to HQ. Answers it gives for itself (an unknown path, a failed upstream) take a neutral
JSON shape; each route family brings its own shape when it arrives."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.agent.context import AgentContext, Context
from backend.agent.upstream import UpstreamError, UpstreamTimeout
from backend.bodies.dependencies import hoist_body_schemas
from backend.bodies.policy import BodyRefused
from backend.connect.errors import ConnectApiError, connect_error, is_connect_path
from backend.connect.errors import validation_error as connect_validation_error
from backend.connect.live_routes import router as connect_live_router
from backend.connect.models import FieldError
from backend.connect.routes import router as connect_router
from backend.environments.models import AgentInfo
from backend.streams.errors import (
    CLUSTER_UNAVAILABLE,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    NOT_FOUND,
    SERIALIZATION_ERROR,
    TIMEOUT,
    EventApiError,
    events_error,
    is_events_path,
)
from backend.streams.errors import validation_error as events_validation_error
from backend.streams.event_routes import router as event_router
from backend.streams.live_routes import router as streams_live_router
from backend.streams.routes import router as streams_router
from backend.streams.tail_routes import router as tail_router

log = logging.getLogger(__name__)


class AgentErrorBody(BaseModel):
    """The agent's own error answer, outside any route family."""

    status: int
    error: str
    message: str


router = APIRouter(tags=["agent"])


@router.get("/api/agent", response_model=AgentInfo, summary="The environment's agent: hostname, version, capabilities")
async def get_agent(context: Context) -> AgentInfo:
    return context.info


# The app's own routes, then each route family's.
# The streams' feed before any route of one stream, so a stream named `live` is never in its way.
ROUTERS = (router, connect_router, connect_live_router, streams_live_router, streams_router, event_router,
           tail_router)


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(AgentErrorBody(status=status, error=error, message=message).model_dump(), status_code=status)


def _agent_path(request: Request) -> str:
    """The path as the agent routes it: below the prefix it is served under (the root_path)."""
    return request.url.path.removeprefix(request.scope.get("root_path", "")) or "/"


# The event API's code for a failure the agent app itself answers.
# A body that cannot be read as JSON is the seed's SERIALIZATION_ERROR, not merely invalid.
_UNREADABLE_BODY = {"malformed_json", "invalid_encoding", "string_unicode", "too_deep", "invalid_number",
                    "number_too_long", "duplicate_key"}
_EVENT_CODES = {400: INVALID_REQUEST, 404: NOT_FOUND, 405: NOT_FOUND, 413: INVALID_REQUEST, 415: INVALID_REQUEST,
                500: INTERNAL_ERROR, 502: CLUSTER_UNAVAILABLE, 504: TIMEOUT}


def _answer(request: Request, status: int, error: str, message: str, field: str | None = None,
            code: int | None = None) -> JSONResponse:
    """A failure in the shape of the family whose path it is on: the Kafka Connect family's
    (backend/connect/errors.py) under /api/kafka-connect/, the event API's (backend/streams/
    errors.py) under /api/v1/, the neutral one elsewhere."""
    path = _agent_path(request)
    if is_connect_path(path):
        fields = [FieldError(field=field, error=message)] if field else None
        return connect_error(ConnectApiError(status, message, fields, error_type=error))
    if is_events_path(path):
        code = code or _EVENT_CODES.get(status, INTERNAL_ERROR)
        return events_error(EventApiError(code, message, field=field, status=status))
    return _error(status, error, message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ConnectApiError)
    async def _connect(_: Request, exc: ConnectApiError) -> JSONResponse:
        return connect_error(exc)

    @app.exception_handler(EventApiError)
    async def _events(_: Request, exc: EventApiError) -> JSONResponse:
        return events_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = _agent_path(request)
        if exc.status_code == 404:
            message, error = f"The agent serves no {request.method} {path}.", "not_found"
        elif exc.status_code == 405:
            message, error = f"The agent's {path} does not take {request.method}.", "method_not_allowed"
        else:
            message, error = str(exc.detail), "http_error"
        return _answer(request, exc.status_code, error, message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        path = _agent_path(request)
        if is_connect_path(path):
            return connect_error(connect_validation_error(list(exc.errors())))
        if is_events_path(path):
            return events_error(events_validation_error(list(exc.errors())))
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return _error(400, "bad_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(BodyRefused)
    async def _body_refused(request: Request, exc: BodyRefused) -> JSONResponse:
        code = SERIALIZATION_ERROR if exc.error in _UNREADABLE_BODY else None
        return _answer(request, exc.status, exc.error, exc.title, exc.field, code)

    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, exc: UpstreamError) -> JSONResponse:
        status, error = (504, "upstream_timeout") if isinstance(exc, UpstreamTimeout) else (502, "upstream_error")
        return _answer(request, status, error, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("agent route %s %s failed", request.method, request.url.path, exc_info=exc)
        return _answer(request, 500, "internal_error", "The agent failed on this request; its log has the details.")


def create_agent_app(context: AgentContext) -> FastAPI:
    """The agent API of one environment."""
    app = FastAPI(title="streamhq agent API", version=context.info.version,
                  docs_url=None, redoc_url=None, openapi_url=None)  # HQ's /openapi.json describes these routes
    app.state.agent_context = context
    for family in ROUTERS:
        app.include_router(family)
    install_error_handlers(app)
    return app


def openapi_paths() -> dict:
    """The agent routes' OpenAPI paths and component schemas, relative to the agent's root."""
    schema = hoist_body_schemas(get_openapi(title="streamhq agent API", version="",
                                            routes=[route for family in ROUTERS for route in family.routes]))
    return {"paths": schema["paths"], "schemas": schema.get("components", {}).get("schemas", {})}
