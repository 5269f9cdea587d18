"""What an agent app knows of its environment: who the agent is and what it reaches. The built-in
agent makes one per environment from HQ's store; a standalone agent will make its own. The agent
app reads nothing else, so it runs the same inside HQ and out of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backend.agent.upstream import UpstreamPool
from backend.connect.plugins import PluginCache
from backend.environments.models import (
    AgentInfo,
    ConnectClusterSpec,
    KafkaConnectionSpec,
    RedpandaConnectSpec,
)


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
    # The Connect clusters' plugins, cached across requests (made with the context, which the
    # agent app keeps for as long as it serves the environment).
    connect_plugins: PluginCache = field(default_factory=PluginCache)
