"""K2K apps API routes (seed 000). Thin: take the body (YAML or JSON, see `backend.bodies`), call the service,
answer in JSON, or in YAML when the client asks for it with `Accept: application/yaml`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel

from backend.bodies.dependencies import Document, Validated
from backend.bodies.policy import JSON_MEDIA_TYPES, YAML_MEDIA_TYPES
from backend.deps import FeedPositionDep, K2KDep, feed, require_principal, sse_ping_seconds
from backend.errors import body_policy
from backend.feed import Event
from backend.k2k.metrics import summarize
from backend.k2k.models import K2KApp, K2KAppInput, K2KAppList, OffsetsPatch, OffsetsUpdated, TopicOffsets
from backend.k2k.service import to_app
from backend.openapi import AUTHENTICATED, WITH_BODY, errors
from backend.sse import live_route
from backend.store.changes import K2K_KIND, METRICS

router = APIRouter(prefix="/api/v0/apps/k2k", tags=["k2k"], dependencies=[Depends(require_principal)],
                   responses=AUTHENTICATED)
live_router = APIRouter(prefix="/api/v1/apps/k2k", tags=["k2k"], dependencies=[Depends(require_principal)],
                        responses=AUTHENTICATED)

# An app is a few KiB; 1,000 topics of 249 characters (the model's bounds) are a quarter of this.
BODIES = body_policy(max_bytes=1024 * 1024, media_types=JSON_MEDIA_TYPES + YAML_MEDIA_TYPES)
APP_BODY = Document(BODIES, K2KAppInput)
PATCH_BODY = Document(BODIES, {"type": "object"})
OFFSETS_BODY = Validated(BODIES, OffsetsPatch)
AppDocument = Annotated[Any, Depends(APP_BODY)]
PatchDocument = Annotated[Any, Depends(PATCH_BODY)]
OffsetsBody = Annotated[OffsetsPatch, Depends(OFFSETS_BODY)]


def answer(request: Request, model: BaseModel, status_code: int = 200) -> Response:
    data = model.model_dump(mode="json", exclude_none=True)
    if any(t in request.headers.get("accept", "") for t in YAML_MEDIA_TYPES):
        return Response(yaml.safe_dump(data, sort_keys=False), status_code=status_code, media_type="application/yaml")
    return Response(json.dumps(data), status_code=status_code, media_type="application/json")


def render_change(event: Event) -> dict:
    change = event.change
    name = change.key[0]
    if change.verb == METRICS:
        return {"name": name, "metrics": change.data.model_dump(mode="json"),
                "metrics_summary": summarize(change.data).model_dump(mode="json")}
    if change.data is None:
        return {"name": name}
    return to_app(change.data).model_dump(mode="json", exclude_none=True)


@router.get("", response_model=K2KAppList, summary="Lists all K2K apps, with metrics summaries if available")
def list_apps(request: Request, position: FeedPositionDep, svc: K2KDep) -> Response:
    return position.stamp(answer(request, K2KAppList(items=svc.list())))


@router.post("", response_model=K2KApp, status_code=201, openapi_extra=APP_BODY.openapi,
             responses={**WITH_BODY, **errors(409)},
             summary="Creates a new K2K app (409 if it exists)")
def create_app(request: Request, body: AppDocument, svc: K2KDep) -> Response:
    return answer(request, svc.create(body), 201)


@router.get("/{name}", response_model=K2KApp, responses=errors(404),
            summary="Retrieves a K2K app, with metrics if available")
def get_app(name: str, request: Request, svc: K2KDep) -> Response:
    return answer(request, svc.get(name))


@router.put("/{name}", response_model=K2KApp, openapi_extra=APP_BODY.openapi,
            responses={201: {"model": K2KApp}, **WITH_BODY, **errors(409)},
            summary="Creates or replaces a K2K app")
def put_app(name: str, request: Request, body: AppDocument, svc: K2KDep,
            if_match: str | None = Header(default=None)) -> Response:
    app, created = svc.put(name, body, if_match)
    return answer(request, app, 201 if created else 200)


@router.patch("/{name}", response_model=K2KApp, openapi_extra=PATCH_BODY.openapi,
              responses={**WITH_BODY, **errors(404, 409)},
              summary="Merges a patch into a K2K app (RFC 7386)")
def patch_app(name: str, request: Request, body: PatchDocument, svc: K2KDep,
              if_match: str | None = Header(default=None)) -> Response:
    return answer(request, svc.patch(name, body, if_match))


@router.delete("/{name}", response_model=K2KApp, responses=errors(404),
               summary="Deletes a K2K app; answers the deleted app")
def delete_app(name: str, request: Request, svc: K2KDep) -> Response:
    return answer(request, svc.delete(name))


@router.get("/{name}/offsets/{topic_name}", response_model=TopicOffsets, responses=errors(400, 404, 409, 502),
            summary="Per partition: the app's committed position and the source's offset range",
            description="With `at` (ISO-8601), also each partition's offset of the first record at or after "
                        "that time (the log end when there is none).")
def get_offsets(name: str, topic_name: str, request: Request, svc: K2KDep,
                at: datetime | None = Query(default=None, description="ISO-8601, e.g. 2026-11-23T07:00:00Z")
                ) -> Response:
    return answer(request, svc.topic_offsets(name, topic_name, at))


@router.patch("/{name}/offsets/{topic_name}", response_model=OffsetsUpdated, openapi_extra=OFFSETS_BODY.openapi,
              responses={**WITH_BODY, **errors(404, 409, 502)},
              summary="Sets the app's positions on a topic's partitions (the app must be paused)")
def patch_offsets(name: str, topic_name: str, body: OffsetsBody, request: Request,
                  svc: K2KDep) -> Response:
    return answer(request, svc.edit_offsets(name, topic_name, body))


live_route(live_router, "/live/sse", {K2K_KIND}, render_change,
           "Server-Sent Events: k2k.created/updated/deleted and k2k.metrics", feed=feed, ping_seconds=sse_ping_seconds)

