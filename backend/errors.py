"""The HQ error family (seeds 000/001) and the handlers that make every failure take its shape.

Every error answer is `{"type","title","status","invalid_fields","request_id"}` with the
request id echoed in `X-Request-ID`. FastAPI's defaults (422 for validation, 403 for a
missing bearer, HTML-ish 404s) are replaced here so that a client sees one shape only.
"""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.bodies.policy import BodyPolicy, BodyRefused
from backend.models import ErrorBody, InvalidField, invalid_fields_from

log = logging.getLogger(__name__)

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


class HQError(Exception):
    """An answer other than success; raised by services, rendered by the handler below."""

    status = 500
    type = "internal_error"

    def __init__(self, title: str, invalid_fields: list[InvalidField] | None = None) -> None:
        super().__init__(title)
        self.title = title
        self.invalid_fields = invalid_fields or []

    def body(self) -> ErrorBody:
        return ErrorBody(
            type=self.type,
            title=self.title,
            status=self.status,
            invalid_fields=self.invalid_fields,
            request_id=request_id_var.get(),
        )


class BadRequest(HQError):
    status = 400
    type = "bad_request"

    @classmethod
    def field(cls, name: str, error: str, title: str) -> BadRequest:
        return cls(title, [InvalidField(name=name, error=error, title=title)])


class Unauthorized(HQError):
    status = 401
    type = "unauthorized"


class NotFound(HQError):
    status = 404
    type = "not_found"


class Conflict(HQError):
    status = 409
    type = "conflict"


class AgentNotConnected(HQError):
    status = 503
    type = "agent_not_connected"


_BODY_ERROR_TYPES = {413: "payload_too_large", 415: "unsupported_media_type"}


def body_policy(max_bytes: int, media_types: tuple[str, ...]) -> BodyPolicy:
    """How routes of this family take bodies: a body of another media type is a 400 (clients
    switched on that before there was a policy), and refusals are described by ErrorBody."""
    return BodyPolicy(max_bytes, media_types, unsupported_media_status=400,
                      error_schema={"$ref": "#/components/schemas/ErrorBody"})


def _render(error: HQError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body().model_dump(), status_code=error.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HQError)
    async def _hq_error(_: Request, exc: HQError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return _render(exc, headers)

    @app.exception_handler(BodyRefused)
    async def _body_refused(_: Request, exc: BodyRefused) -> JSONResponse:
        error = HQError(exc.title, [InvalidField(name=exc.field, error=exc.error, title=exc.title)])
        error.status = exc.status
        error.type = _BODY_ERROR_TYPES.get(exc.status, "bad_request")
        return _render(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = invalid_fields_from(list(exc.errors()))
        summary = "; ".join(f"{f.name}: {f.title}" for f in fields[:3])
        return _render(BadRequest(f"Invalid request: {summary}", fields))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path
        title = str(exc.detail)
        if exc.status_code == 404 and path.endswith("/") and path != "/":
            # The app does not redirect to the slash-less path (see create_app): say what would match.
            title = f"No route {path}: HQ paths take no trailing slash ({path.rstrip('/')})."
        error = HQError(title)
        error.status = exc.status_code
        error.type = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _render(error, dict(exc.headers or {}))



class RequestIdMiddleware:
    """Gives each request an id (the client's `X-Request-ID` if it sent a sane one) and
    echoes it; turns an unexpected exception into a 500 of the HQ shape carrying that id.
    Plain ASGI so that streaming answers (SSE) pass straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else os.urandom(16).hex()
        token = request_id_var.set(request_id)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            if started:
                raise
            response = _render(HQError("Internal error; the server log has the details under this request id."))
            await response(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
