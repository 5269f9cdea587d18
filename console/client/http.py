"""HQClient: the console's one way to the HQ API, embedded (UNIX socket) or remote (URL).
Answers are parsed into the backend's own pydantic models; failures become APIError
(the server said no) or Unreachable (no server answered), read by the error family of the
path (console/client/errors.py). The Kafka Connect calls hang off it as `client.connect`
(console/client/connect.py), the event API's streams as `client.streams` (console/client/streams.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from backend.environments.models import (
    ConnectCluster,
    ConnectClusterList,
    Environment,
    EnvironmentCreate,
    EnvironmentList,
    EnvironmentPatch,
    EnvironmentWithKey,
    KafkaConnection,
    KafkaConnectionList,
    KafkaConnectionSpec,
    RedpandaConnect,
    RedpandaConnectList,
)
from backend.k2k.models import K2KApp, K2KAppList, OffsetsUpdated, TopicOffsets
from console.client.connect import ConnectClient
from console.client.errors import APIError, Unreachable, hq_error
from console.client.groups import GroupsClient
from console.client.records import RecordsClient
from console.client.streams import StreamsClient

Model = TypeVar("Model", bound=BaseModel)
# Query parameters; a list value repeats the parameter (`?cluster=a&cluster=b`).
Params = dict[str, str] | dict[str, str | list[str]]

__all__ = ["APIError", "HQClient", "Unreachable"]


class HQClient:
    def __init__(self, server: str, token: str, *, uds: str | None = None, timeout: float = 10.0) -> None:
        """`server` is the URL shown to the user; with `uds` requests go through that socket."""
        self.server = server
        transport = httpx.AsyncHTTPTransport(uds=uds) if uds else None
        self.base_url = "http://streamhq" if uds else server.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self.connect = ConnectClient(self)
        self.groups = GroupsClient(self)
        self.records = RecordsClient(self)
        self.streams = StreamsClient(self)

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, *, json: Any = None, content: str | None = None,
                      headers: dict[str, str] | None = None, params: Params | None = None,
                      errors: Callable[[httpx.Response], APIError] = hq_error) -> httpx.Response:
        """`errors` reads a refusal in the family of `path` (HQ's own unless told)."""
        try:
            response = await self._http.request(method, path, json=json, content=content, headers=headers,
                                                params=params)
        except httpx.TransportError as exc:
            raise Unreachable(self.server, str(exc) or type(exc).__name__) from exc
        if response.is_error:
            raise errors(response)
        return response

    async def _get(self, path: str, model: type[Model]) -> Model:
        return model.model_validate_json((await self.request("GET", path)).content)

    # environments

    async def list_environments(self) -> tuple[list[Environment], int | None]:
        """The environments and the feed position to resume the live feed from."""
        response = await self.request("GET", "/v1/environments")
        last = response.headers.get("x-last-event-id")
        return EnvironmentList.model_validate_json(response.content).items, int(last) if last else None

    async def get_environment(self, name: str) -> Environment:
        return await self._get(f"/v1/environments/{name}", Environment)

    async def create_environment(self, body: EnvironmentCreate) -> EnvironmentWithKey:
        response = await self.request("POST", "/v1/environments", json=body.model_dump(mode="json", exclude_none=True))
        return EnvironmentWithKey.model_validate_json(response.content)

    async def patch_environment(self, name: str, body: EnvironmentPatch) -> Environment:
        payload = body.model_dump(mode="json", exclude_unset=True)
        response = await self.request("PATCH", f"/v1/environments/{name}", json=payload)
        return Environment.model_validate_json(response.content)

    async def delete_environment(self, name: str) -> None:
        await self.request("DELETE", f"/v1/environments/{name}")

    async def renew_agent_key(self, name: str) -> EnvironmentWithKey:
        response = await self.request("POST", f"/v1/environments/{name}/renew-key")
        return EnvironmentWithKey.model_validate_json(response.content)

    # kafka connections

    async def list_connections(self, environment: str) -> list[KafkaConnection]:
        return (await self._get(f"/v1/environments/{environment}/kafka-connections", KafkaConnectionList)).items

    async def put_connection(self, environment: str, name: str, spec: KafkaConnectionSpec) -> KafkaConnection:
        response = await self.request(
            "PUT", f"/v1/environments/{environment}/kafka-connections/{name}", json=spec.model_dump(mode="json")
        )
        return KafkaConnection.model_validate_json(response.content)

    async def delete_connection(self, environment: str, name: str) -> None:
        await self.request("DELETE", f"/v1/environments/{environment}/kafka-connections/{name}")

    # the HTTP services an environment's agent reaches

    async def list_connect_clusters(self, environment: str) -> list[ConnectCluster]:
        return (await self._get(f"/v1/environments/{environment}/connect-clusters", ConnectClusterList)).items

    async def list_redpanda_connects(self, environment: str) -> list[RedpandaConnect]:
        return (await self._get(f"/v1/environments/{environment}/redpanda-connects", RedpandaConnectList)).items

    # K2K apps

    async def list_k2k(self) -> tuple[list[K2KApp], int | None]:
        response = await self.request("GET", K2K)
        last = response.headers.get("x-last-event-id")
        return K2KAppList.model_validate_json(response.content).items, int(last) if last else None

    async def get_k2k(self, name: str) -> K2KApp:
        return await self._get(f"{K2K}/{name}", K2KApp)

    async def get_k2k_yaml(self, name: str) -> str:
        return (await self.request("GET", f"{K2K}/{name}", headers={"Accept": YAML})).text

    async def save_k2k_yaml(self, text: str, *, name: str | None = None, generation: int | None = None) -> K2KApp:
        """Creates (no `name`) or replaces an app from the YAML the user wrote; with `generation`,
        only if nobody changed the app since."""
        headers = {"Content-Type": YAML}
        if generation is not None:
            headers["If-Match"] = str(generation)
        method, path = ("PUT", f"{K2K}/{name}") if name else ("POST", K2K)
        return K2KApp.model_validate_json((await self.request(method, path, content=text, headers=headers)).content)

    async def patch_k2k(self, name: str, patch: dict[str, Any]) -> K2KApp:
        return K2KApp.model_validate_json((await self.request("PATCH", f"{K2K}/{name}", json=patch)).content)

    async def delete_k2k(self, name: str) -> None:
        await self.request("DELETE", f"{K2K}/{name}")

    async def k2k_offsets(self, name: str, topic: str, at: str | None = None) -> TopicOffsets:
        params = {"at": at} if at else None
        response = await self.request("GET", f"{K2K}/{name}/offsets/{topic}", params=params)
        return TopicOffsets.model_validate_json(response.content)

    async def set_k2k_offsets(self, name: str, topic: str, offsets: dict[int, int]) -> OffsetsUpdated:
        body = {"offsets": [{"partition": p, "offset": o} for p, o in sorted(offsets.items())]}
        response = await self.request("PATCH", f"{K2K}/{name}/offsets/{topic}", json=body)
        return OffsetsUpdated.model_validate_json(response.content)


K2K = "/api/v0/apps/k2k"
YAML = "application/yaml"

