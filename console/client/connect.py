"""The Kafka Connect calls of the console: seed 002 and its additions, through HQ's proxy to an
environment's agent (`/api/v1/environments/{env}/proxy/api/kafka-connect/...`), parsed into
`backend.connect.models`.

It hangs off the HQ client as `client.connect` (a `ConnectClient` made by `HQClient` over its
own `request`), so screens reach it as `self.app.client.connect.<call>(environment, ...)` and
every call shares the client's connection pool, token and timeouts.

Refusals of this family come as `ConnectAPIError`, an `APIError` that keeps the seed's
`fields[]` (field, error, lineNumber, columnNumber) so the editor can put each message at its
line; `field_errors()` works as for HQ's forms. A refusal by HQ itself on the way (an unknown
environment, no agent: HQ's shape) or by the agent app outside this family (its neutral
`{status, error, message}`) is a plain `APIError`.

`create` and `put_config` take either a model or the `EditorDocument` the user typed (the
agent takes JSON): sent as typed, the answer's `lineNumber`s point into that text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from backend.connect.models import (
    ActionResult,
    ClusterWarning,
    ConfigUpsertResult,
    ConnectErrorBody,
    ConnectInfo,
    ConnectorDetails,
    ConnectorList,
    ConnectorListItem,
    ConnectorStateAction,
    ConnectorStatusAnswer,
    FieldError,
    LoggerLevel,
    LoggerLevelChange,
    NewConnector,
    OffsetEntry,
    OffsetsAnswer,
    OffsetsChange,
    OffsetsChanged,
    PluginConfigField,
    PluginList,
    ValidateConnector,
    ValidationResponse,
)
from backend.models import InvalidField
from console.client.errors import APIError, agent_path, family_error

Model = TypeVar("Model", bound=BaseModel)

JSON = "application/json"


def connect_path(environment: str, *parts: str) -> str:
    """The proxy path of a Connect resource."""
    return agent_path(environment, "api/kafka-connect", *parts)


@dataclass
class ConnectAPIError(APIError):
    """A refusal in seed 002's shape: `title` is its `error`, `fields` its `fields[]`."""

    fields: list[FieldError] = field(default_factory=list)
    error_type: str | None = None

    def at_lines(self) -> list[FieldError]:
        """The field errors that say where in the typed document they are."""
        return [f for f in self.fields if f.lineNumber is not None]


def _connect_refusal(status: int, shaped: ConnectErrorBody) -> APIError:
    invalid = [InvalidField(name=f.field, error=shaped.errorType or "invalid", title=f.error) for f in shaped.fields]
    return ConnectAPIError(status, shaped.error, invalid, shaped.fields, shaped.errorType)


def connect_error(response: httpx.Response) -> APIError:
    return family_error(response, ConnectErrorBody, _connect_refusal)


@dataclass(frozen=True)
class EditorDocument:
    """A JSON body as the user typed it, sent unchanged so errors come back at its lines."""

    text: str


@dataclass(frozen=True)
class ConnectorListing:
    """One environment's connectors across its clusters; `warnings` names each cluster left
    out; `last_event_id` is its connector feed's position when the list was read."""

    items: list[ConnectorListItem]
    warnings: list[ClusterWarning]
    last_event_id: int | None


_STRINGS = TypeAdapter(list[str])


class Requests(Protocol):
    """What a ConnectClient needs of the HQ client (which makes it: no import back to it)."""

    async def request(self, method: str, path: str, *, json: Any = None, content: str | None = None,
                      headers: dict[str, str] | None = None, params: Any = None,
                      errors: Callable[[httpx.Response], APIError] = ...) -> httpx.Response: ...


class ConnectClient:
    def __init__(self, hq: Requests) -> None:
        self._hq = hq

    async def _call(self, method: str, path: str, *, body: BaseModel | EditorDocument | None = None,
                    params: dict[str, Any] | None = None) -> httpx.Response:
        if isinstance(body, EditorDocument):
            return await self._hq.request(method, path, content=body.text, headers={"Content-Type": JSON},
                                          params=params, errors=connect_error)
        payload = body.model_dump(mode="json", by_alias=True, exclude_none=True) if body is not None else None
        return await self._hq.request(method, path, json=payload, params=params, errors=connect_error)

    async def _get(self, path: str, model: type[Model], params: dict[str, Any] | None = None) -> Model:
        return model.model_validate_json((await self._call("GET", path, params=params)).content)

    # connectors

    async def list_connectors(self, environment: str, *, clusters: Sequence[str] = (),
                   class_names: Sequence[str] = ()) -> ConnectorListing:
        params = {key: list(values) for key, values in (("cluster", clusters), ("className", class_names)) if values}
        response = await self._call("GET", connect_path(environment, "connectors"), params=params or None)
        answer = ConnectorList.model_validate_json(response.content)
        last = response.headers.get("x-last-event-id")
        return ConnectorListing(answer.data, answer.warnings, int(last) if last and last.isdigit() else None)

    async def details(self, environment: str, cluster: str, name: str) -> ConnectorDetails:
        return await self._get(_connector(environment, cluster, name), ConnectorDetails)

    async def status(self, environment: str, cluster: str, name: str) -> ConnectorStatusAnswer:
        return await self._get(_connector(environment, cluster, name, "status"), ConnectorStatusAnswer)

    async def create(self, environment: str, body: NewConnector | EditorDocument) -> ConnectorDetails:
        response = await self._call("POST", connect_path(environment, "connectors"), body=body)
        return ConnectorDetails.model_validate_json(response.content)

    async def put_config(self, environment: str, cluster: str, name: str,
                         config: dict[str, str] | EditorDocument) -> ConfigUpsertResult:
        """Creates or replaces the connector's configuration (validated by the agent first)."""
        path = _connector(environment, cluster, name, "config")
        if isinstance(config, EditorDocument):
            response = await self._call("PUT", path, body=config)
        else:
            response = await self._hq.request("PUT", path, json=config, errors=connect_error)
        return ConfigUpsertResult.model_validate_json(response.content)

    async def delete(self, environment: str, cluster: str, name: str) -> None:
        await self._call("DELETE", _connector(environment, cluster, name))

    async def action(self, environment: str, cluster: str, name: str, action: ConnectorStateAction, *,
                     include_tasks: bool = False, only_failed: bool = False) -> ActionResult:
        """start, stop, pause, resume, or restart (of the tasks too, or only the failed ones: KIP-745)."""
        params = None
        if action is ConnectorStateAction.restart:
            params = {"includeTasks": _flag(include_tasks), "onlyFailed": _flag(only_failed)}
        response = await self._call("PUT", _connector(environment, cluster, name, action.value), params=params)
        return ActionResult.model_validate_json(response.content)

    async def restart_task(self, environment: str, cluster: str, name: str, task: int | str) -> ActionResult:
        response = await self._call("PUT", _connector(environment, cluster, name, "tasks", str(task), "restart"))
        return ActionResult.model_validate_json(response.content)

    async def topics(self, environment: str, cluster: str, name: str) -> list[str]:
        response = await self._call("GET", _connector(environment, cluster, name, "topics"))
        return _STRINGS.validate_json(response.content)

    # offsets (KIP-875: altered and reset only while STOPPED)

    async def offsets(self, environment: str, cluster: str, name: str) -> OffsetsAnswer:
        return await self._get(_connector(environment, cluster, name, "offsets"), OffsetsAnswer)

    async def alter_offsets(self, environment: str, cluster: str, name: str,
                            offsets: list[OffsetEntry]) -> OffsetsChanged:
        response = await self._call("PATCH", _connector(environment, cluster, name, "offsets"),
                                    body=OffsetsChange(offsets=offsets))
        return OffsetsChanged.model_validate_json(response.content)

    async def reset_offsets(self, environment: str, cluster: str, name: str) -> OffsetsChanged:
        response = await self._call("DELETE", _connector(environment, cluster, name, "offsets"))
        return OffsetsChanged.model_validate_json(response.content)

    # plugins and validation

    async def plugins(self, environment: str, *, clusters: Sequence[str] = ()) -> PluginList:
        params = {"cluster": list(clusters)} if clusters else None
        return await self._get(connect_path(environment, "plugins"), PluginList, params)

    async def plugin_config(self, environment: str, cluster: str, class_name: str) -> list[PluginConfigField]:
        """The keys the plugin defines, for the editor's template."""
        response = await self._call("GET", connect_path(environment, "clusters", cluster, "connector-plugins",
                                                        class_name, "config"))
        return _listed(response, PluginConfigField)

    async def validate(self, environment: str, body: ValidateConnector) -> ValidationResponse:
        response = await self._call("POST", connect_path(environment, "validate"), body=body)
        return ValidationResponse.model_validate_json(response.content)

    # a cluster

    async def info(self, environment: str, cluster: str) -> ConnectInfo:
        return await self._get(connect_path(environment, "clusters", cluster, "info"), ConnectInfo)

    async def loggers(self, environment: str, cluster: str) -> list[LoggerLevel]:
        return _listed(await self._call("GET", connect_path(environment, "clusters", cluster, "loggers")), LoggerLevel)

    async def set_logger(self, environment: str, cluster: str, logger: str, level: str) -> None:
        change = LoggerLevelChange.model_validate({"level": level})
        await self._call("PUT", connect_path(environment, "clusters", cluster, "loggers", logger), body=change)


def _connector(environment: str, cluster: str, name: str, *rest: str) -> str:
    return connect_path(environment, "clusters", cluster, "connectors", name, *rest)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _listed(response: httpx.Response, model: type[Model]) -> list[Model]:
    """The additions answer bare lists (the seed's own lists come in `{"data": [...]}` models)."""
    return TypeAdapter(list[model]).validate_json(response.content)  # type: ignore[valid-type]
