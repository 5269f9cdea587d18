"""What the OpenAPI document promises for each route's failures, named once for every router.

Routes list the error answers they can give with `errors(...)` (or the shared sets below), each
in the HQ error shape, so that /openapi.json holds every status a route answers (the fuzzer
in tests/fuzz fails on any other) and none it never sends (such as FastAPI's 422).
"""

from __future__ import annotations

from typing import Any

from backend.models import ErrorBody

ERROR_DESCRIPTIONS = {
    400: "Bad input: a body, parameter or header that does not validate; `invalid_fields` names each one at fault.",
    401: "No valid bearer token (or none at all).",
    404: "No such resource.",
    409: "Conflicts with the current state: the resource exists, `If-Match` is stale, or a prerequisite is unmet.",
    502: "Kafka did not answer (`kafka_unavailable`).",
    503: "The environment's agent is not connected (`agent_not_connected`).",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries for these error statuses, each an `ErrorBody`."""
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


# Every route but /health needs a bearer token.
AUTHENTICATED = errors(401)
# Every route that takes a body: it may not parse or validate. Its 413 (too large) is described
# by the body dependency itself (`Document.openapi` in backend/bodies), in the family's shape.
WITH_BODY = errors(400)

# FastAPI documents a 422 on every operation with parameters; the HQ answers 400 instead
# (backend/errors.py), so the 422 and the schemas only it uses are taken out of the document.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def without_fastapi_422(openapi: dict) -> dict:
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = openapi.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return openapi


# One event of a live feed, as an SSE client parses it (Open API 3.1 has the event-stream
# media type's schema describe each event).
SSE_EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data", "id"],
    "properties": {
        "event": {"type": "string", "description": "`<kind>.<verb>`, `ready` or `resync`"},
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "Resume from it with Last-Event-ID"},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
SSE_RESPONSE = {200: {"description": "An endless event stream (a `: ping` comment while idle).",
                      "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}}}}
