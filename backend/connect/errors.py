"""The Kafka Connect family's errors (seed 002): `ConnectApiError`, raised by the client and the
service, and how every failure under `/api/kafka-connect/` becomes a `ConnectErrorBody`.

The agent app's handlers (backend/agent/api.py) call `connect_error` for paths of this family
and keep their neutral shape for the others."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from fastapi.responses import JSONResponse

from backend.connect.models import ConnectErrorBody, FieldError
from backend.models import invalid_fields_from

PATH_PREFIX = "/api/kafka-connect/"

ERROR_DESCRIPTIONS = {
    400: "Bad input: a parameter, body or configuration key that does not validate; `fields` names each one.",
    404: "No such Connect cluster, connector, task, plugin or logger (the message names it).",
    409: "The connector exists already, or the worker was still rebalancing after a few seconds of retries.",
    502: "The Connect cluster did not answer, or failed; the message names the cluster and the URL.",
    504: "The Connect cluster took the request but did not answer in time.",
}


class ConnectApiError(Exception):
    """An answer of this family other than success."""

    def __init__(self, status: int, error: str, fields: list[FieldError] | None = None,
                 error_type: str | None = None, *, worker_status: int | None = None,
                 worker_message: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.fields = fields or []
        self.error_type = error_type or _ERROR_TYPES.get(status, "error")
        # The worker's own answer when it is the one that refused: a caller that knows the
        # worker says 500 for a bad input (a connector refusing offsets) words it as a 400.
        self.worker_status = worker_status
        self.worker_message = worker_message

    @classmethod
    def bad(cls, field: str, error: str) -> ConnectApiError:
        """A 400 naming one field (a body field, a parameter or a configuration key)."""
        return cls(400, f"{field}: {error}", [FieldError(field=field, error=error)])

    def body(self) -> ConnectErrorBody:
        return ConnectErrorBody(error=self.error, fields=self.fields, errorType=self.error_type)


@contextmanager
def missing(field: str, message: str) -> Iterator[None]:
    """A worker's 404 on a path about one thing means that thing is not there: say so in words
    that name the cluster (the worker's own vary: "not found", "Unknown connector", "No status",
    "HTTP 404 Not Found"), and name the parameter at fault."""
    try:
        yield
    except ConnectApiError as error:
        if error.status == 404:
            raise ConnectApiError(404, message, [FieldError(field=field, error="not found")]) from None
        raise


def about_connector(cluster: str, name: str) -> AbstractContextManager[None]:
    return missing("connector", f"Connect cluster {cluster!r} has no connector {name!r}.")


_ERROR_TYPES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
                413: "payload_too_large", 415: "unsupported_media_type", 500: "internal_error",
                502: "upstream_error", 504: "upstream_timeout"}


def is_connect_path(agent_path: str) -> bool:
    return agent_path.startswith(PATH_PREFIX)


def connect_error(error: ConnectApiError) -> JSONResponse:
    return JSONResponse(error.body().model_dump(exclude_none=True), status_code=error.status)


def validation_error(errors: list[dict[str, Any]]) -> ConnectApiError:
    """pydantic's errors (a body, a path or query parameter) as a 400 with a field each."""
    fields = [FieldError(field=f.name, error=f.title) for f in invalid_fields_from(errors)]
    summary = "; ".join(f"{f.field}: {f.error}" for f in fields[:3])
    return ConnectApiError(400, f"Invalid request: {summary}", fields)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries for these statuses, each a `ConnectErrorBody`."""
    return {code: {"model": ConnectErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}
