"""Environments API routes (seed 001). Thin: parse, call the service, shape the answer.

No `from __future__ import annotations` here: the resource routes are made by a factory whose
body types are variables, and FastAPI reads annotations at run time."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from backend.bodies.dependencies import Validated
from backend.bodies.policy import JSON_MEDIA_TYPES
from backend.deps import EnvironmentsDep, FeedPositionDep, RenderedDep, feed, require_principal, sse_ping_seconds
from backend.environments.models import (
    Environment,
    EnvironmentCreate,
    EnvironmentList,
    EnvironmentPatch,
    EnvironmentWithKey,
)
from backend.environments.resources import RESOURCE_KINDS, ResourceKind
from backend.environments.service import to_environment, to_public
from backend.errors import NotFound, body_policy
from backend.feed import Event
from backend.openapi import AUTHENTICATED, WITH_BODY, errors
from backend.rendered import RenderedCache, json_response
from backend.sse import live_route
from backend.store.changes import ENVIRONMENT_KIND

FEED_KINDS = {ENVIRONMENT_KIND, *RESOURCE_KINDS}
# An environment or a resource is a few KiB (a TLS connection's three PEMs the most).
BODIES = body_policy(max_bytes=256 * 1024, media_types=JSON_MEDIA_TYPES)
CREATE_BODY = Validated(BODIES, EnvironmentCreate)
PATCH_BODY = Validated(BODIES, EnvironmentPatch)

router = APIRouter(
    prefix="/environments",
    tags=["environments"],
    dependencies=[Depends(require_principal)],
    responses=AUTHENTICATED,
)


def render_change(event: Event) -> dict:
    change = event.change
    if change.kind == ENVIRONMENT_KIND:
        return to_environment(change.data).model_dump(mode="json") if change.data else {"name": change.key[0]}
    environment, name = change.key
    if change.data is None:
        return {"environment": environment, "name": name}
    return {"environment": environment, **to_public(RESOURCE_KINDS[change.kind], change.data).model_dump(mode="json")}


# The GETs answer from the rendered cache: no store read, no model built, so no worker thread
# either (they are async: FastAPI runs a plain `def` on a thread pool, a hop that costs more than
# the answer). `response_model` still documents the shape in the OpenAPI.


@router.get("", response_model=EnvironmentList, summary="Lists all environments")
async def list_environments(position: FeedPositionDep, cache: RenderedDep):
    return position.stamp(json_response(cache[ENVIRONMENT_KIND].listing()))


@router.post("", response_model=EnvironmentWithKey, status_code=201, openapi_extra=CREATE_BODY.openapi,
             responses={**WITH_BODY, **errors(409)}, summary="Creates a new environment")
def create_environment(body: Annotated[EnvironmentCreate, Depends(CREATE_BODY)], svc: EnvironmentsDep):
    return svc.create(body)


live_route(router, "/live/sse", FEED_KINDS, render_change, "Server-Sent Events for environment changes",
           feed=feed, ping_seconds=sse_ping_seconds)


@router.get("/{name}", response_model=Environment, responses=errors(404),
            summary="Retrieves a single environment by name")
async def get_environment(name: str, cache: RenderedDep):
    body = cache[ENVIRONMENT_KIND].get((name,))
    if body is None:
        raise NotFound(f"Environment {name!r} not found.")
    return json_response(body)


@router.patch("/{name}", response_model=Environment, openapi_extra=PATCH_BODY.openapi,
              responses={**WITH_BODY, **errors(404)}, summary="Updates an environment")
def patch_environment(name: str, body: Annotated[EnvironmentPatch, Depends(PATCH_BODY)], svc: EnvironmentsDep):
    return svc.patch(name, body)


@router.delete("/{name}", status_code=204, responses=errors(404), summary="Deletes an environment")
def delete_environment(name: str, svc: EnvironmentsDep) -> Response:
    svc.delete(name)
    return Response(status_code=204)


@router.post("/{name}/renew-key", response_model=EnvironmentWithKey, responses=errors(404),
             summary="Generates a new agent key and invalidates the old")
def renew_key(name: str, svc: EnvironmentsDep):
    return svc.renew_key(name)


def known_environment(cache: RenderedCache, name: str) -> None:
    if not cache[ENVIRONMENT_KIND].contains((name,)):
        raise NotFound(f"Environment {name!r} not found.")


def add_resource_routes(kind: ResourceKind) -> None:
    """list / get / put (upsert) / delete of one kind of environment resource."""
    base = f"/{{env_name}}/{kind.path}"
    item = f"{base}/{{{kind.name_param}}}"
    ItemName = Annotated[str, Path(alias=kind.name_param)]
    label = kind.label[0].lower() + kind.label[1:]
    spec_body = Validated(BODIES, kind.spec)

    async def list_items(env_name: str, cache: RenderedDep):
        known_environment(cache, env_name)
        return json_response(cache[kind.kind].listing((env_name,)))

    async def get_item(env_name: str, item_name: ItemName, cache: RenderedDep):
        known_environment(cache, env_name)
        body = cache[kind.kind].get((env_name, item_name))
        if body is None:
            raise NotFound(f"{kind.label} {item_name!r} not found in environment {env_name!r}.")
        return json_response(body)

    def put_item(env_name: str, body: Annotated[kind.spec, Depends(spec_body)], response: Response,
                 item_name: ItemName, svc: EnvironmentsDep):
        resource, created = svc.put_resource(env_name, kind, item_name, body)
        response.status_code = 201 if created else 200
        return resource

    def delete_item(env_name: str, item_name: ItemName, svc: EnvironmentsDep) -> Response:
        svc.delete_resource(env_name, kind, item_name)
        return Response(status_code=204)

    snake = kind.kind.replace("-", "_")
    router.add_api_route(base, list_items, methods=["GET"], response_model=kind.listing, name=f"list_{snake}s",
                         responses=errors(404), summary=f"Lists the {label}s of an environment")
    router.add_api_route(item, get_item, methods=["GET"], response_model=kind.public, name=f"get_{snake}",
                         responses=errors(404), summary=f"Retrieves a {label} of an environment")
    router.add_api_route(item, put_item, methods=["PUT"], response_model=kind.public, name=f"put_{snake}",
                         responses={201: {"model": kind.public}, **WITH_BODY, **errors(404)},
                         openapi_extra=spec_body.openapi,
                         summary=f"Creates or replaces a {label}")
    router.add_api_route(item, delete_item, methods=["DELETE"], status_code=204, name=f"delete_{snake}",
                         responses=errors(404), summary=f"Deletes a {label}")


for _kind in RESOURCE_KINDS.values():
    add_resource_routes(_kind)

