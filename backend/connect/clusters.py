"""An environment's Connect clusters as the agent reaches them: one by name (a 404 naming it
when the environment has no such cluster), or several read at once with a bound on each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread

from backend.agent.context import AgentContext
from backend.agent.upstream import UpstreamError
from backend.connect.client import ConnectClient
from backend.connect.errors import ConnectApiError
from backend.connect.models import ClusterWarning, FieldError
from backend.environments.models import ConnectClusterSpec

# A whole cluster's reading in a fleet list (its expanded call and, when not cached, its
# plugins): past it the cluster is left out with a warning, the others are answered.
CLUSTER_READ_SECONDS = 10.0


class ConnectClusters:
    def __init__(self, context: AgentContext) -> None:
        self.context = context

    async def _specs(self) -> dict[str, ConnectClusterSpec]:
        resources = await anyio.to_thread.run_sync(self.context.resources)  # reads the store
        return dict(resources.connect_clusters) if resources is not None else {}

    def _client(self, name: str, spec: ConnectClusterSpec) -> ConnectClient:
        return ConnectClient(self.context.upstreams.connect_cluster(name, spec), name)

    def _unknown(self, cluster: str, specs: dict[str, ConnectClusterSpec]) -> ConnectApiError:
        known = ", ".join(sorted(specs)) or "none"
        return ConnectApiError(404, f"Environment {self.context.environment!r} has no Connect cluster {cluster!r} "
                                    f"(it has: {known}).",
                               [FieldError(field="cluster", error="unknown Connect cluster")])

    async def client(self, cluster: str) -> ConnectClient:
        specs = await self._specs()
        if cluster not in specs:
            raise self._unknown(cluster, specs)
        return self._client(cluster, specs[cluster])

    async def named(self, wanted: list[str]) -> list[ConnectClient]:
        """The clusters a list reads: those named (each must exist), or all of them."""
        specs = await self._specs()
        for cluster in wanted:
            if cluster not in specs:
                raise self._unknown(cluster, specs)
        names = dict.fromkeys(wanted) if wanted else sorted(specs)
        return [self._client(name, specs[name]) for name in names]

    @staticmethod
    async def across(clients: list[ConnectClient], read: Callable[[ConnectClient], Awaitable[list[Any]]]
                     ) -> tuple[list[Any], list[ClusterWarning]]:
        """`read(client)` on every cluster at once, each bounded: a cluster that fails or takes
        too long is a warning, never the whole answer's failure."""

        async def one(client: ConnectClient) -> tuple[list[Any], ClusterWarning | None]:
            try:
                async with asyncio.timeout(CLUSTER_READ_SECONDS):
                    return await read(client), None
            except TimeoutError:
                reason = (f"{client.upstream.name} at {', '.join(client.upstream.urls)}: no answer within "
                          f"{CLUSTER_READ_SECONDS:g}s")
            except (UpstreamError, ConnectApiError) as error:
                reason = str(error)
            return [], ClusterWarning(cluster=client.cluster, error=reason)

        answers = await asyncio.gather(*(one(client) for client in clients))
        items = [item for found, _ in answers for item in found]
        return items, [warning for _, warning in answers if warning is not None]
