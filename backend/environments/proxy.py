"""HQ's `…/environments/{name}/proxy/{path}`: hands the request to the environment's agent
through its AgentLink (backend/agent/link.py) and streams the agent's answer back.

The request is not read here: the agent gets HQ's own `receive` and `send`, so both bodies
stream through with nothing buffered in between, and the method, query string, status and
headers are the agent's to see and set, except the hop-by-hop headers and the caller's HQ
bearer, which the agent must never see."""

from __future__ import annotations

import copy

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from backend.agent.api import openapi_paths
from backend.agent.link import AgentLink
from backend.deps import AgentLinksDep, EnvironmentsDep, require_principal
from backend.errors import AgentNotConnected, request_id_var
from backend.openapi import AUTHENTICATED, errors

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                        b"trailer", b"transfer-encoding", b"upgrade"})
# The caller's HQ token stays in HQ; HQ sends its own request id so both logs name the request.
NOT_FORWARDED = HOP_BY_HOP | {b"authorization", b"x-request-id"}
PROXY_PATH = "/{name}/proxy/{path:path}"

router = APIRouter(
    prefix="/environments",
    tags=["environments"],
    dependencies=[Depends(require_principal)],
    responses={**AUTHENTICATED, **errors(404, 503)},
)


def _end_to_end(headers: list[tuple[bytes, bytes]], dropped: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    """`headers` without `dropped` and without those the Connection header names (RFC 9110 §7.6.1)."""
    named = {token.strip().lower() for key, value in headers if key == b"connection" for token in value.split(b",")}
    return [(key, value) for key, value in headers if key not in dropped and key not in named]


def agent_scope(scope: Scope, path: str) -> Scope:
    """The agent's view of a proxied request: a fresh HTTP scope (nothing of HQ's app, routes or
    state in it) whose root_path is the proxy prefix, so the agent routes on `/{path}`."""
    return {
        "type": "http",
        "asgi": scope["asgi"],
        "http_version": scope["http_version"],
        "method": scope["method"],
        "scheme": scope["scheme"],
        "server": scope.get("server"),
        "client": scope.get("client"),
        "path": scope["path"],
        "raw_path": scope.get("raw_path"),
        "root_path": scope["path"][: len(scope["path"]) - len(path) - 1],  # without "/" + path
        "query_string": scope["query_string"],
        "headers": [*_end_to_end(scope["headers"], NOT_FORWARDED),
                    (b"x-request-id", request_id_var.get().encode("latin-1"))],
    }


class AgentResponse(Response):
    """The answer the agent sends, streamed as the agent sends it."""

    def __init__(self, link: AgentLink, agent_request: Scope) -> None:
        self.link = link
        self.agent_request = agent_request
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_end_to_end(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _end_to_end(list(message.get("headers", [])), HOP_BY_HOP)}
            await send(message)

        await self.link.forward(self.agent_request, receive, send_end_to_end)


async def proxy(name: str, path: str, request: Request, svc: EnvironmentsDep, links: AgentLinksDep) -> Response:
    link = await run_in_threadpool(links.link, name) if links else None  # reads the store
    if link is None:
        await run_in_threadpool(svc.get, name)  # an unknown environment is a 404
        raise AgentNotConnected(f"The agent of environment {name!r} is not connected, so /{path} cannot be proxied.")
    return AgentResponse(link, agent_scope(request.scope, path))


# One route per method so that each gets its own OpenAPI operation id.
for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    router.add_api_route(PROXY_PATH, proxy, methods=[_method], name=f"proxy_{_method.lower()}",
                         summary="Proxies HTTP to the environment's agent (a prefix, not one endpoint)")


def _with_hq_errors(responses: dict, hq_errors: dict) -> dict:
    """An agent route's answers beside HQ's own errors. A status both give (a 404: no such
    environment, or no such connector) is either body: HQ's, or the route family's."""
    merged = {**hq_errors, **responses}
    for status in hq_errors.keys() & responses.keys():
        hq_schema = hq_errors[status]["content"]["application/json"]["schema"]
        agent_schema = responses[status].get("content", {}).get("application/json", {}).get("schema")
        if agent_schema is not None and agent_schema != hq_schema:
            merged[status] = {"description": f"{hq_errors[status]['description']}; or "
                                             f"{responses[status]['description']}",
                              "content": {"application/json": {"schema": {"oneOf": [hq_schema, agent_schema]}}}}
    return merged


def describe_agent_routes(schema: dict, prefixes: tuple[str, ...]) -> dict:
    """Adds the agent routes to HQ's OpenAPI under each proxy prefix, as HQ serves them: with the
    environment's name, HQ's bearer and HQ's errors for an unknown environment or a missing agent."""
    agent = openapi_paths()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model, definition in agent["schemas"].items():
        components.setdefault(model, definition)
    environment = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                   "description": "The environment whose agent answers."}
    hq_errors = {str(code): {"description": title, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for code, title in ((401, "No valid HQ bearer"), (404, "No such environment"),
                            (503, "The environment has no connected agent"))}
    for prefix in prefixes:
        for path, item in agent["paths"].items():
            operations = {}
            for method, operation in item.items():
                operation = copy.deepcopy(operation)
                operation["operationId"] = f"agent_{operation['operationId']}{prefix.replace('/', '_')}"
                operation["parameters"] = [environment, *operation.get("parameters", [])]
                operation["security"] = [{"HTTPBearer": []}]
                operation["responses"] = _with_hq_errors(operation["responses"], hq_errors)
                operations[method] = operation
            schema["paths"][f"{prefix}/environments/{{name}}/proxy{path}"] = operations
    return schema
