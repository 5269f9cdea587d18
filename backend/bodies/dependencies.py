"""The FastAPI dependencies a route takes its body from, and their OpenAPI description.

`Document` answers the body as data (for routes whose service reads documents, such as merge
patches); `Validated` answers it as the route's pydantic model. Both read the body themselves:
FastAPI's own body parsing reads without a limit, accepts any `+json` type and duplicate keys,
and answers malformed UTF-8, huge numbers or deep nesting with a 400 naming no field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from backend.bodies.policy import PARSE_SECONDS, YAML_MEDIA_TYPES, BodyPolicy, BodyRefused
from backend.bodies.strict_json import parse_json
from backend.bodies.strict_yaml import parse_yaml

_SCHEMA_REF = "#/components/schemas/{model}"


def _too_large(policy: BodyPolicy) -> BodyRefused:
    return BodyRefused(413, "body", "too_large", f"The body is larger than {policy.max_bytes} bytes.")


def media_type(request: Request, policy: BodyPolicy) -> str:
    """The body's media type if the policy takes it (a charset other than UTF-8 is refused:
    the body would be read as something other than what was sent)."""
    header = request.headers.get("content-type", "")
    kind, *parameters = (part.strip() for part in header.split(";"))
    kind = kind.lower()
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BodyRefused(policy.unsupported_media_status, "body", "unsupported_media_type",
                              f"The body must be UTF-8 (got charset={value.strip()}).")
    if kind not in policy.media_types:
        raise BodyRefused(policy.unsupported_media_status, "body", "unsupported_media_type",
                          f"Send the body as {' or '.join(policy.media_types)} (got {kind or 'none'}).")
    return kind


async def read_body(request: Request, policy: BodyPolicy) -> bytes:
    """The body, never holding more than the policy's limit: a declared length over it is
    refused before reading, and a body streamed without one is refused as it passes the limit."""
    declared = request.headers.get("content-length", "").lstrip("0")
    if declared.isascii() and declared.isdigit() and (len(declared) > len(str(policy.max_bytes))
                                                      or int(declared) > policy.max_bytes):
        raise _too_large(policy)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > policy.max_bytes:
            raise _too_large(policy)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise BodyRefused.bad("body", "required", "The body is empty.")
    return body


async def off_the_loop(work: Callable[[], Any]) -> Any:
    """Runs `work` in a worker thread so that parsing never holds up the event loop's other
    requests; the answer waits at most PARSE_SECONDS (the abandoned thread ends on its own,
    its work bounded by the size limit and the parsers' refusals)."""
    try:
        with anyio.fail_after(PARSE_SECONDS):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError:
        raise BodyRefused.bad("body", "too_complex", f"The body took over {PARSE_SECONDS} s to read.") from None


def parse(raw: bytes, kind: str) -> Any:
    return parse_yaml(raw) if kind in YAML_MEDIA_TYPES else parse_json(raw)


def validate(model: type[BaseModel], document: Any) -> BaseModel:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        # the shape FastAPI's own body validation raises: each family's handler renders it
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) \
            from None


class Document:
    """Dependency: the body as data, JSON or YAML by its Content-Type. `schema` describes it
    in the OpenAPI: a model, or a JSON schema for documents no model describes (patches)."""

    def __init__(self, policy: BodyPolicy, schema: type[BaseModel] | dict[str, Any]) -> None:
        self.policy = policy
        self.schema = schema

    async def __call__(self, request: Request) -> Any:
        kind = media_type(request, self.policy)
        raw = await read_body(request, self.policy)
        return await off_the_loop(lambda: self.finish(parse(raw, kind)))

    def finish(self, document: Any) -> Any:
        return document

    @property
    def openapi(self) -> dict[str, Any]:
        """The route's `openapi_extra`: its request body in each media type taken. A model's
        schema is inline here, its own definitions with it; `hoist_body_schemas` moves them
        among the document's components."""
        schema = (self.schema.model_json_schema(ref_template=_SCHEMA_REF) if isinstance(self.schema, type)
                  else self.schema)
        refusals = {413: "The body is larger than the limit."}
        if self.policy.unsupported_media_status != 400:
            refusals[self.policy.unsupported_media_status] = "The body is not of a media type taken."
        error = {"application/json": {"schema": self.policy.error_schema}}
        return {"requestBody": {"required": True,
                                "content": {kind: {"schema": schema} for kind in self.policy.media_types}},
                "responses": {str(status): {"description": text, "content": error}
                              for status, text in refusals.items()}}


class Validated(Document):
    """Dependency: the body validated as `model` (a 400 naming each field at fault)."""

    def __init__(self, policy: BodyPolicy, model: type[BaseModel]) -> None:
        super().__init__(policy, model)
        self.model = model

    def finish(self, document: Any) -> BaseModel:
        return validate(self.model, document)


class OptionalValidated(Validated):
    """Dependency: like Validated, or None when the request sends no body at all (no
    Content-Type and no length): a route whose body only narrows what it does."""

    async def __call__(self, request: Request) -> BaseModel | None:
        headers = request.headers
        if "content-type" not in headers and headers.get("content-length", "0").strip() in ("", "0") \
                and "transfer-encoding" not in headers:
            return None
        return await super().__call__(request)

    @property
    def openapi(self) -> dict[str, Any]:
        extra = super().openapi
        extra["requestBody"]["required"] = False
        return extra


def hoist_body_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """Moves the request bodies' inline model schemas (see `Document.openapi`) among the
    document's components, where every other schema is, and refers to them there. A schema
    FastAPI already holds under that name, an answer's, is kept."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for operation in (op for item in openapi.get("paths", {}).values() for op in item.values()):
        for medium in operation.get("requestBody", {}).get("content", {}).values():
            if "title" not in medium["schema"]:
                continue
            schema = dict(medium["schema"])  # the route's own description stays as it is
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas.setdefault(schema["title"], schema)
            medium["schema"] = {"$ref": _SCHEMA_REF.format(model=schema["title"])}
    return openapi
