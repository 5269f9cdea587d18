"""Environments API routes (seed 001). Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from backend.deps import require_principal
from backend.environments.models import (
    Environment,
    EnvironmentCreate,
    EnvironmentList,
    EnvironmentPatch,
    EnvironmentWithKey,
    KafkaConnection,
    KafkaConnectionList,
    KafkaConnectionSpec,
)
from backend.environments.service import EnvironmentService, to_connection, to_environment
from backend.errors import AgentNotConnected
from backend.feed import Event
from backend.models import ErrorBody
from backend.sse import sse_response

FEED_KINDS = {"environment", "kafka-connection"}
LAST_EVENT_HEADER = "X-Last-Event-ID"

router = APIRouter(
    prefix="/environments",
    tags=["environments"],
    dependencies=[Depends(require_principal)],
    responses={code: {"model": ErrorBody} for code in (400, 401, 404, 409)},
)


def service(request: Request) -> EnvironmentService:
    return request.app.state.environments


def render_change(event: Event) -> dict:
    change = event.change
    if change.kind == "environment":
        return to_environment(change.data).model_dump(mode="json") if change.data else {"name": change.key[0]}
    environment, name = change.key
    if change.data is None:
        return {"environment": environment, "name": name}
    return {"environment": environment, **to_connection(change.data).model_dump(mode="json")}


@router.get("", response_model=EnvironmentList, summary="Lists all environments")
def list_environments(request: Request, response: Response, svc: EnvironmentService = Depends(service)):
    # Read the feed position first: a client that resumes the live feed from it misses nothing.
    response.headers[LAST_EVENT_HEADER] = str(request.app.state.feed.last_id)
    return EnvironmentList(items=svc.list())


@router.post("", response_model=EnvironmentWithKey, status_code=201, summary="Creates a new environment")
def create_environment(body: EnvironmentCreate, svc: EnvironmentService = Depends(service)):
    return svc.create(body)


@router.get("/live/sse", response_class=StreamingResponse, summary="Server-Sent Events for environment changes")
async def live(request: Request) -> StreamingResponse:
    settings = request.app.state.settings
    return sse_response(request, request.app.state.feed, FEED_KINDS, render_change, settings.sse_ping_seconds)


@router.get("/{name}", response_model=Environment, summary="Retrieves a single environment by name")
def get_environment(name: str, svc: EnvironmentService = Depends(service)):
    return svc.get(name)


@router.patch("/{name}", response_model=Environment, summary="Updates an environment")
def patch_environment(name: str, body: EnvironmentPatch, svc: EnvironmentService = Depends(service)):
    return svc.patch(name, body)


@router.delete("/{name}", status_code=204, summary="Deletes an environment")
def delete_environment(name: str, svc: EnvironmentService = Depends(service)) -> Response:
    svc.delete(name)
    return Response(status_code=204)


@router.post("/{name}/renew-key", response_model=EnvironmentWithKey,
             summary="Generates a new agent key and invalidates the old")
def renew_key(name: str, svc: EnvironmentService = Depends(service)):
    return svc.renew_key(name)


@router.get("/{env_name}/kafka-connections", response_model=KafkaConnectionList,
            summary="Lists Kafka connections defined for an environment")
def list_connections(env_name: str, svc: EnvironmentService = Depends(service)):
    return KafkaConnectionList(items=svc.list_connections(env_name))


@router.get("/{env_name}/kafka-connections/{conn_name}", response_model=KafkaConnection,
            summary="Retrieves a Kafka connection of an environment")
def get_connection(env_name: str, conn_name: str, svc: EnvironmentService = Depends(service)):
    return svc.get_connection(env_name, conn_name)


@router.put("/{env_name}/kafka-connections/{conn_name}", response_model=KafkaConnection,
            responses={201: {"model": KafkaConnection}}, summary="Creates or updates a Kafka connection")
def put_connection(env_name: str, conn_name: str, body: KafkaConnectionSpec, response: Response,
                   svc: EnvironmentService = Depends(service)):
    connection, created = svc.put_connection(env_name, conn_name, body)
    response.status_code = 201 if created else 200
    return connection


@router.delete("/{env_name}/kafka-connections/{conn_name}", status_code=204,
               summary="Deletes a Kafka connection")
def delete_connection(env_name: str, conn_name: str, svc: EnvironmentService = Depends(service)) -> Response:
    svc.delete_connection(env_name, conn_name)
    return Response(status_code=204)


def proxy(name: str, path: str, svc: EnvironmentService = Depends(service)):
    svc.get(name)
    raise AgentNotConnected(f"The agent of environment {name!r} is not connected, so /{path} cannot be proxied.")


# One route per method so that each gets its own OpenAPI operation id.
for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    router.add_api_route("/{name}/proxy/{path:path}", proxy, methods=[_method], name=f"proxy_{_method.lower()}",
                         summary="Proxies HTTP to the environment's agent (a prefix, not one endpoint)")
