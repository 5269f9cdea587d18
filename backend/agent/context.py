"""What an agent app knows of its environment: who the agent is and what it reaches. The built-in
agent makes one per environment from HQ's store; a standalone agent will make its own. The agent
app reads nothing else, so it runs the same inside HQ and out of it.

Its routes take it as the `Context` dependency, defined here rather than in the app's module so
that every route family's router can use it without importing the app that includes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from backend.agent.upstream import UpstreamPool
from backend.connect.live import ConnectorLedger
from backend.connect.plugins import PluginCache
from backend.environments.models import (
    AgentInfo,
    ConnectClusterSpec,
    KafkaConnectionSpec,
    RedpandaConnectSpec,
)
from backend.streams.clients import KafkaClients
from backend.streams.idempotency import IdempotencyCache
from backend.streams.live import StreamLedger

SSE_PING_SECONDS = 15.0
CONSUMER_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class AgentResources:
    """An environment's resources at one moment."""

    kafka: KafkaConnectionSpec
    connect_clusters: dict[str, ConnectClusterSpec] = field(default_factory=dict)
    redpanda_connects: dict[str, RedpandaConnectSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentContext:
    environment: str
    info: AgentInfo
    # Resources change while the agent runs (a Connect cluster is added), so they are read when
    # needed. It may block (the built-in agent reads the store): async routes call it off the loop.
    resources: Callable[[], AgentResources | None]
    upstreams: UpstreamPool
    # The environment's connectors as last read, and their feed: it lives as long as the context
    # (the agent keeps one per environment), so a feed's position outlasts any request.
    connectors: ConnectorLedger
    # The environment's streams and consumer groups as last read, and their feed: likewise.
    streams: StreamLedger
    sse_ping_seconds: float = SSE_PING_SECONDS  # a `: ping` on an idle live feed this often
    # The Connect clusters' plugins, cached across requests (made with the context, which the
    # agent app keeps for as long as it serves the environment).
    connect_plugins: PluginCache = field(default_factory=PluginCache)
    # The event API's Kafka clients (admin, producers, consumer members, tails), kept as long as
    # the context; closed with it.
    kafka_clients: KafkaClients = field(default_factory=KafkaClients)
    # An event API consumer member nobody has called for this long is closed (without committing).
    consumer_ttl_seconds: float = CONSUMER_TTL_SECONDS
    # The publishes' Idempotency-Keys of the last minutes, per environment.
    idempotency: IdempotencyCache = field(default_factory=IdempotencyCache)

    def close(self) -> None:
        """The agent no longer serves the environment (or stops): its Kafka clients go."""
        self.kafka_clients.close()


async def agent_context(request: Request) -> AgentContext:
    # async: reading an attribute is not worth a thread-pool hop.
    return request.app.state.agent_context


Context = Annotated[AgentContext, Depends(agent_context)]
