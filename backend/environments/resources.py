"""The kinds of things an environment's agent reaches, each stored as a named resource of
its environment: Kafka connections (seed 001), Kafka Connect clusters and Redpanda Connect
instances. One set of rules and routes serves all three."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from backend.environments.models import (
    ConnectCluster,
    ConnectClusterList,
    ConnectClusterSpec,
    KafkaConnection,
    KafkaConnectionList,
    KafkaConnectionSpec,
    RedpandaConnect,
    RedpandaConnectList,
    RedpandaConnectSpec,
)
from backend.lrn import resource_lrn


@dataclass(frozen=True)
class ResourceKind:
    kind: str  # the feed's event prefix and the store's kind
    path: str  # under /environments/{env_name}/
    label: str  # for people: "Kafka connection"
    name_param: str  # the path parameter's name, as the seeds call it
    spec: type[BaseModel]  # the request body: has an `auth` (OneOfAuth)
    public: type[BaseModel]  # the answer: spec + name
    listing: type[BaseModel]  # {"items": [...]}

    def lrn(self, environment: str, name: str) -> str:
        return resource_lrn(self.kind, environment, name)


KAFKA_CONNECTION = ResourceKind("kafka-connection", "kafka-connections", "Kafka connection", "conn_name",
                                KafkaConnectionSpec, KafkaConnection, KafkaConnectionList)
CONNECT_CLUSTER = ResourceKind("connect-cluster", "connect-clusters", "Kafka Connect cluster", "cluster_name",
                               ConnectClusterSpec, ConnectCluster, ConnectClusterList)
REDPANDA_CONNECT = ResourceKind("redpanda-connect", "redpanda-connects", "Redpanda Connect instance",
                                "instance_name", RedpandaConnectSpec, RedpandaConnect, RedpandaConnectList)

RESOURCE_KINDS = {k.kind: k for k in (KAFKA_CONNECTION, CONNECT_CLUSTER, REDPANDA_CONNECT)}
