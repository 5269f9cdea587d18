"""Typed feed events: each SSE event of the HQ parsed once, into the model of its kind.

The wire says `event: <kind>.<verb>` with the resource's public JSON. A `FeedEvent` carries
the kind (the console's own: a K2K app's metrics are kind `k2k-metrics`, not `k2k`, because
their payload is another model), the verb, the resource's key and its parsed model (None for
a deletion). `FEED_PATHS` says which SSE endpoint carries each kind: the one place feed paths
are written down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from backend.environments.models import ConnectCluster, Environment, KafkaConnection, RedpandaConnect
from backend.k2k.models import K2KApp, K2KMetrics


class Kind(StrEnum):
    environment = "environment"
    kafka_connection = "kafka-connection"
    connect_cluster = "connect-cluster"
    redpanda_connect = "redpanda-connect"
    k2k = "k2k"
    k2k_metrics = "k2k-metrics"


ENVIRONMENTS_FEED = "/v1/environments/live/sse"
K2K_FEED = "/api/v1/apps/k2k/live/sse"

FEED_PATHS: dict[Kind, str] = {
    Kind.environment: ENVIRONMENTS_FEED,
    Kind.kafka_connection: ENVIRONMENTS_FEED,
    Kind.connect_cluster: ENVIRONMENTS_FEED,
    Kind.redpanda_connect: ENVIRONMENTS_FEED,
    Kind.k2k: K2K_FEED,
    Kind.k2k_metrics: K2K_FEED,
}


def kinds_of(path: str) -> frozenset[Kind]:
    """The kinds the feed at `path` carries."""
    return frozenset(kind for kind, feed in FEED_PATHS.items() if feed == path)


Payload = Environment | KafkaConnection | ConnectCluster | RedpandaConnect | K2KApp | K2KMetrics


@dataclass(frozen=True, slots=True)
class FeedEvent:
    kind: Kind
    verb: str  # created / updated / deleted / metrics
    name: str
    environment: str | None = None  # for a resource of an environment: which one
    payload: Payload | None = None  # None for a deletion

    @property
    def deleted(self) -> bool:
        return self.verb == "deleted"


@dataclass(frozen=True, slots=True)
class Resync:
    """The feed at `path` missed events: its kinds must be fetched again."""

    path: str

    @property
    def kinds(self) -> frozenset[Kind]:
        return kinds_of(self.path)


class _Key(BaseModel):
    """What every event of an environment's resources names, deletions included."""

    model_config = ConfigDict(extra="ignore")
    name: str
    environment: str | None = None


class _Metrics(BaseModel):
    model_config = ConfigDict(extra="ignore")  # metrics_summary: the console sums the figures itself
    name: str
    metrics: K2KMetrics


@dataclass(frozen=True)
class _Wire:
    kind: Kind
    model: type[BaseModel]
    name_of: Callable[[Any], str]
    scoped: bool = False  # a resource of an environment: the event says which


_WIRE: dict[str, _Wire] = {
    "environment": _Wire(Kind.environment, Environment, lambda e: e.name),
    "kafka-connection": _Wire(Kind.kafka_connection, KafkaConnection, lambda c: c.name, scoped=True),
    "connect-cluster": _Wire(Kind.connect_cluster, ConnectCluster, lambda c: c.name, scoped=True),
    "redpanda-connect": _Wire(Kind.redpanda_connect, RedpandaConnect, lambda c: c.name, scoped=True),
    "k2k": _Wire(Kind.k2k, K2KApp, lambda a: a.metadata.name),
}


def parse_event(event: str, data: str) -> FeedEvent | None:
    """The typed event of one SSE message; None for a kind this console does not know (a newer
    server's). Raises pydantic's ValidationError when the data does not fit its kind."""
    wire_kind, _, verb = event.partition(".")
    if wire_kind == "k2k" and verb == "metrics":
        measured = _Metrics.model_validate_json(data)
        return FeedEvent(Kind.k2k_metrics, verb, measured.name, payload=measured.metrics)
    wire = _WIRE.get(wire_kind)
    if wire is None:
        return None
    if verb == "deleted":
        key = _Key.model_validate_json(data)
        return FeedEvent(wire.kind, verb, key.name, key.environment)
    payload = wire.model.model_validate_json(data)
    environment = _Key.model_validate_json(data).environment if wire.scoped else None
    return FeedEvent(wire.kind, verb, wire.name_of(payload), environment, payload)  # type: ignore[arg-type]
