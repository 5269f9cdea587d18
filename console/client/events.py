"""Typed feed events: each SSE event of the HQ parsed once, into the model of its kind.

The wire says `event: <kind>.<verb>` with the resource's public JSON. A `FeedEvent` carries
the kind (the console's own: a K2K app's metrics are kind `k2k-metrics`, not `k2k`, because
their payload is another model), the verb, the resource's key and its parsed model (None for
a deletion). `FEED_PATHS` says which SSE endpoint carries each kind: the one place feed paths
are written down. A path with `{environment}` in it is a feed per environment (the agent's
connector feed, its streams' and consumer groups' feed): `feed_path(kind, environment)` names the
one of an environment. A stream's or group's event is named as the lists name it (the stream's
name, the group's id) with its environment, so a screen keys list items and events alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from backend.connect.models import ConnectorListItem
from backend.environments.models import ConnectCluster, Environment, KafkaConnection, RedpandaConnect
from backend.k2k.models import K2KApp, K2KMetrics
from backend.lrn import KafkaLRN, parse_kafka_lrn
from backend.streams.models import LiveGroup, LiveStream


class Kind(StrEnum):
    environment = "environment"
    kafka_connection = "kafka-connection"
    connect_cluster = "connect-cluster"
    redpanda_connect = "redpanda-connect"
    k2k = "k2k"
    k2k_metrics = "k2k-metrics"
    connector = "connector"
    stream = "stream"
    consumer_group = "consumer-group"


ENVIRONMENTS_FEED = "/v1/environments/live/sse"
K2K_FEED = "/api/v1/apps/k2k/live/sse"
CONNECTORS_FEED = "/api/v1/environments/{environment}/proxy/api/kafka-connect/live/sse"
STREAMS_FEED = "/api/v1/environments/{environment}/proxy/api/v1/streams/live/sse"

FEED_PATHS: dict[Kind, str] = {
    Kind.environment: ENVIRONMENTS_FEED,
    Kind.kafka_connection: ENVIRONMENTS_FEED,
    Kind.connect_cluster: ENVIRONMENTS_FEED,
    Kind.redpanda_connect: ENVIRONMENTS_FEED,
    Kind.k2k: K2K_FEED,
    Kind.k2k_metrics: K2K_FEED,
    Kind.connector: CONNECTORS_FEED,
    Kind.stream: STREAMS_FEED,
    Kind.consumer_group: STREAMS_FEED,
}


def per_environment(kind: Kind) -> bool:
    """Whether each environment has its own feed of `kind`."""
    return "{environment}" in FEED_PATHS[kind]


def feed_path(kind: Kind, environment: str | None = None) -> str:
    """The path of the feed that carries `kind` (of `environment`, for a feed per environment)."""
    if not per_environment(kind):
        return FEED_PATHS[kind]
    if not environment:
        raise ValueError(f"the {kind} feed is per environment: name one")
    return FEED_PATHS[kind].format(environment=environment)


def _matcher(template: str) -> re.Pattern[str]:
    before, placeholder, after = template.partition("{environment}")
    return re.compile(re.escape(before) + ("[^/]+" + re.escape(after) if placeholder else ""))


_MATCHERS = {kind: _matcher(template) for kind, template in FEED_PATHS.items()}


def kinds_of(path: str) -> frozenset[Kind]:
    """The kinds the feed at `path` carries."""
    return frozenset(kind for kind, matcher in _MATCHERS.items() if matcher.fullmatch(path))


Payload = (Environment | KafkaConnection | ConnectCluster | RedpandaConnect | K2KApp | K2KMetrics | ConnectorListItem
           | LiveStream | LiveGroup)


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


def connector_environment(lrn: str) -> str | None:
    """The environment a connector's LRN names: `kafka-connect:connector/{environment}/{cluster}/{name}`."""
    parts = lrn.split("/")
    return parts[1] if len(parts) == 4 and parts[0] == "kafka-connect:connector" else None


class _ConnectorKey(BaseModel):
    """A connector's events are keyed by its LRN (names repeat across Connect clusters), which
    says its environment."""

    model_config = ConfigDict(extra="ignore")
    lrn: str

    @property
    def name(self) -> str:
        return self.lrn

    @property
    def environment(self) -> str | None:
        return connector_environment(self.lrn)


class _KafkaKey(BaseModel):
    """A stream's or a consumer group's events are keyed by its LRN
    (`kafka:topic|consumer-group/{environment}/{connection}/{name}`): the event names the stream
    or group as the lists do (by name, in its environment), and says which environment."""

    model_config = ConfigDict(extra="ignore")
    lrn: str

    @cached_property
    def _parsed(self) -> KafkaLRN | None:
        return parse_kafka_lrn(self.lrn)

    @property
    def name(self) -> str:
        return self._parsed.name if self._parsed else self.lrn

    @property
    def environment(self) -> str | None:
        return self._parsed.environment if self._parsed else None


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
    key: type[BaseModel] = _Key  # what names the resource (and its environment), deletions included


_WIRE: dict[str, _Wire] = {
    "environment": _Wire(Kind.environment, Environment, lambda e: e.name),
    "kafka-connection": _Wire(Kind.kafka_connection, KafkaConnection, lambda c: c.name, scoped=True),
    "connect-cluster": _Wire(Kind.connect_cluster, ConnectCluster, lambda c: c.name, scoped=True),
    "redpanda-connect": _Wire(Kind.redpanda_connect, RedpandaConnect, lambda c: c.name, scoped=True),
    "k2k": _Wire(Kind.k2k, K2KApp, lambda a: a.metadata.name),
    "connector": _Wire(Kind.connector, ConnectorListItem, lambda c: c.lrn, scoped=True, key=_ConnectorKey),
    "stream": _Wire(Kind.stream, LiveStream, lambda s: s.name, scoped=True, key=_KafkaKey),
    "consumer-group": _Wire(Kind.consumer_group, LiveGroup, lambda g: g.groupId, scoped=True, key=_KafkaKey),
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
        key = wire.key.model_validate_json(data)
        return FeedEvent(wire.kind, verb, key.name, key.environment)  # type: ignore[attr-defined]
    payload = wire.model.model_validate_json(data)
    environment = wire.key.model_validate_json(data).environment if wire.scoped else None  # type: ignore[attr-defined]
    return FeedEvent(wire.kind, verb, wire.name_of(payload), environment, payload)  # type: ignore[arg-type]
