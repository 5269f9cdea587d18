"""The event API family's errors (seed 004): `EventApiError`, raised by its services, and how
every failure under `/api/v1/` of the agent app becomes an `EventErrorBody`
`{code, message, description, field}`.

The seed names six codes; the family needs a few more for what it does not cover (a bad request
that is not about an offset or the data, a stream that exists, a conflict, a cluster that does
not answer). They follow the seed's numbering and shape, and the README lists them all."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from backend.models import invalid_fields_from
from backend.streams.models import EventErrorBody

PATH_PREFIX = "/api/v1/"

# code -> (message, HTTP status)
CODES: dict[int, tuple[str, int]] = {
    1000: ("INVALID_REQUEST", 400),  # addition: a parameter or body field that does not validate
    1001: ("STREAM_NOT_FOUND", 404),
    1002: ("INVALID_OFFSET", 400),
    1003: ("CONSUMER_GROUP_NOT_FOUND", 404),
    1004: ("SERIALIZATION_ERROR", 400),
    1005: ("QUOTA_EXCEEDED", 429),
    1006: ("TIMEOUT", 504),
    1007: ("STREAM_ALREADY_EXISTS", 409),  # addition
    1008: ("CONFLICT", 409),  # addition: a group with members, an Idempotency-Key reused for another body
    1009: ("CLUSTER_UNAVAILABLE", 502),  # addition: the environment's Kafka did not answer
    1010: ("NOT_FOUND", 404),  # addition: no such route (or method: 405)
    1011: ("INTERNAL_ERROR", 500),  # addition
}
INVALID_REQUEST, STREAM_NOT_FOUND, INVALID_OFFSET, CONSUMER_GROUP_NOT_FOUND = 1000, 1001, 1002, 1003
SERIALIZATION_ERROR, QUOTA_EXCEEDED, TIMEOUT, STREAM_ALREADY_EXISTS = 1004, 1005, 1006, 1007
CONFLICT, CLUSTER_UNAVAILABLE, NOT_FOUND, INTERNAL_ERROR = 1008, 1009, 1010, 1011


class EventApiError(Exception):
    """An answer of the event API other than success."""

    def __init__(self, code: int, description: str, *, field: str | None = None, status: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.field = field
        self.status = status or CODES[code][1]

    @classmethod
    def bad(cls, field: str, description: str) -> EventApiError:
        return cls(INVALID_REQUEST, f"{field}: {description}", field=field)

    def body(self) -> EventErrorBody:
        return EventErrorBody(code=self.code, message=CODES[self.code][0], description=self.description,
                              field=self.field)


def stream_not_found(stream: str, field: str = "streamName") -> EventApiError:
    return EventApiError(STREAM_NOT_FOUND, f"The environment's Kafka has no stream (topic) {stream!r}.",
                         field=field)


def is_events_path(agent_path: str) -> bool:
    return agent_path.startswith(PATH_PREFIX) or agent_path == PATH_PREFIX.rstrip("/")


def events_error(error: EventApiError) -> JSONResponse:
    return JSONResponse(error.body().model_dump(exclude_none=True), status_code=error.status)


def validation_error(errors: list[dict[str, Any]]) -> EventApiError:
    """pydantic's errors (a body, a path or query parameter) as a 400 naming the first field;
    a value the JSON decoder refused is a SERIALIZATION_ERROR, anything else INVALID_REQUEST."""
    fields = invalid_fields_from(errors)
    first = fields[0] if fields else None
    summary = "; ".join(f"{f.name}: {f.title}" for f in fields[:3]) or "invalid request"
    code = SERIALIZATION_ERROR if any(e.get("type") == "json_invalid" for e in errors) else INVALID_REQUEST
    return EventApiError(code, f"Invalid request: {summary}", field=first.name if first else None, status=400)


ERROR_DESCRIPTIONS = {
    400: "INVALID_REQUEST (1000), INVALID_OFFSET (1002) or SERIALIZATION_ERROR (1004); `field` names the input.",
    404: "STREAM_NOT_FOUND (1001), CONSUMER_GROUP_NOT_FOUND (1003).",
    409: "STREAM_ALREADY_EXISTS (1007), or CONFLICT (1008): a group with members, an Idempotency-Key reused.",
    413: "The body is over the family's limit (1000).",
    415: "The body is not JSON (1000).",
    429: "QUOTA_EXCEEDED (1005): the agent holds as many consumers or tails as it takes.",
    502: "CLUSTER_UNAVAILABLE (1009): the environment's Kafka did not answer.",
    504: "TIMEOUT (1006): the operation did not finish within its timeout.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries for these statuses, each an `EventErrorBody`."""
    return {code: {"model": EventErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}
