"""LRNs, the names one resource uses to point at another, built and parsed here only.

    environments:environment/<environment>
    environments:<resource kind>/<environment>/<name>      e.g. environments:kafka-connection/prod/main
    apps:k2k/<app>
    kafka:topic/<environment>/<kafka connection>/<topic>
    kafka:consumer-group/<environment>/<kafka connection>/<group>   (the group is the rest: it may hold `/`)
    kubernetes:namespace/<environment>/<cluster>/<namespace>
    kafka-connect:connector/<environment>/<connect cluster>/<connector>

A part is anything but `/` and whitespace. Parsing answers None for a string that is not an
LRN of the kind asked for, so each caller words its own error for the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = r"[^/\s]+"
_RESOURCE = re.compile(rf"environments:(?P<kind>{_PART})/(?P<environment>{_PART})/(?P<name>{_PART})")
_KAFKA = re.compile(
    rf"kafka:(?P<kind>topic|consumer-group)/(?P<environment>{_PART})/(?P<connection>{_PART})/(?P<name>.+)")
_NAMESPACE = re.compile(rf"kubernetes:namespace/(?P<environment>{_PART})/(?P<cluster>{_PART})/(?P<namespace>{_PART})")


@dataclass(frozen=True)
class ResourceLRN:
    """Something an environment's agent reaches: a Kafka connection, a Connect cluster..."""

    kind: str
    environment: str
    name: str


@dataclass(frozen=True)
class KafkaLRN:
    """Something on the cluster an environment's Kafka connection reaches: a topic, a consumer group."""

    kind: str  # topic, consumer-group
    environment: str
    connection: str
    name: str


@dataclass(frozen=True)
class NamespaceLRN:
    environment: str
    cluster: str
    namespace: str


def resource_lrn_pattern(kind: str) -> str:
    """A JSON-schema `pattern` for the LRNs of one kind of resource: it documents the rule for
    clients, while the parsers below enforce it."""
    return rf"^environments:{kind}/{_PART}/{_PART}$"  # kinds are lowercase words and hyphens


NAMESPACE_LRN_PATTERN = rf"^kubernetes:namespace/{_PART}/{_PART}/{_PART}$"


def environment_lrn(name: str) -> str:
    return f"environments:environment/{name}"


def resource_lrn(kind: str, environment: str, name: str) -> str:
    return f"environments:{kind}/{environment}/{name}"


def k2k_app_lrn(name: str) -> str:
    return f"apps:k2k/{name}"


def connector_lrn(environment: str, cluster: str, connector: str) -> str:
    """A Kafka Connect connector of one of the environment's Connect clusters (seed 002)."""
    return f"kafka-connect:connector/{environment}/{cluster}/{connector}"


def _on_connection(kind: str, connection_lrn: str, name: str) -> str:
    connection = parse_resource_lrn(connection_lrn)
    if connection is None:
        raise ValueError(f"not a resource LRN: {connection_lrn!r}")
    return f"kafka:{kind}/{connection.environment}/{connection.name}/{name}"


def kafka_topic_lrn(connection_lrn: str, topic: str) -> str:
    """The LRN of `topic` on the cluster that the Kafka connection `connection_lrn` reaches."""
    return _on_connection("topic", connection_lrn, topic)


def kafka_consumer_group_lrn(connection_lrn: str, group: str) -> str:
    """The LRN of consumer group `group` on the cluster that the Kafka connection `connection_lrn` reaches."""
    return _on_connection("consumer-group", connection_lrn, group)


def parse_kafka_lrn(lrn: str, kind: str | None = None) -> KafkaLRN | None:
    """`kafka:<topic|consumer-group>/<environment>/<kafka connection>/<name>`, of `kind` when given."""
    match = _KAFKA.fullmatch(lrn)
    if match is None or (kind is not None and match["kind"] != kind):
        return None
    return KafkaLRN(match["kind"], match["environment"], match["connection"], match["name"])


def parse_resource_lrn(lrn: str, kind: str | None = None) -> ResourceLRN | None:
    """`environments:<kind>/<environment>/<name>`, of `kind` when one is given."""
    match = _RESOURCE.fullmatch(lrn)
    if match is None or (kind is not None and match["kind"] != kind):
        return None
    return ResourceLRN(match["kind"], match["environment"], match["name"])


def parse_namespace_lrn(lrn: str) -> NamespaceLRN | None:
    match = _NAMESPACE.fullmatch(lrn)
    return NamespaceLRN(match["environment"], match["cluster"], match["namespace"]) if match else None
