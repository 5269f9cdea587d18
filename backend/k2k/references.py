"""What a K2K spec points at: LRNs resolved to stored Kafka connections, and the worker
config (docs/architecture.md, the replication design) the app's workers run with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.agent.kafka import librdkafka_config, stored_kafka_spec
from backend.environments.models import KafkaConnectionSpec
from backend.environments.resources import KAFKA_CONNECTION
from backend.k2k.models import K2KSpec
from backend.lrn import parse_namespace_lrn, parse_resource_lrn
from backend.replicator.config import RESERVED_PROPERTIES, WorkerConfig, consumer_group
from backend.store import AppRecord, Store

WORKERS_KEY = "workers"


class SpecProblem(Exception):
    """A spec field names something that is not there: (field, error code, message)."""

    def __init__(self, field: str, error: str, title: str) -> None:
        super().__init__(title)
        self.field, self.error, self.title = field, error, title


@dataclass(frozen=True)
class KafkaReference:
    environment: str
    name: str
    spec: KafkaConnectionSpec


def resolve_kafka(store: Store, field: str, lrn: str) -> KafkaReference:
    reference = parse_resource_lrn(lrn, KAFKA_CONNECTION.kind)
    if reference is None:
        raise SpecProblem(field, "invalid_format",
                              f"{field} must be environments:kafka-connection/<environment>/<connection>")
    environment, name = reference.environment, reference.name
    record = store.get_resource(environment, KAFKA_CONNECTION.kind, name)
    if record is None:
        where = "environment" if store.get_environment(environment) is None else "Kafka connection"
        raise SpecProblem(field, "reference_not_found", f"{field}: {where} of {lrn!r} not found")
    return KafkaReference(environment, name, stored_kafka_spec(record.spec))


def check_namespace(store: Store, lrn: str) -> None:
    field = "spec.deploymentNamespaceLRN"
    namespace = parse_namespace_lrn(lrn)
    if namespace is None:
        raise SpecProblem(field, "invalid_format",
                              f"{field} must be kubernetes:namespace/<environment>/<cluster>/<namespace>")
    if store.get_environment(namespace.environment) is None:
        raise SpecProblem(field, "reference_not_found", f"{field}: environment {namespace.environment!r} not found")


def split_overrides(overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], int]:
    """configOverrides -> (consumer properties, producer properties, worker count); raises on a bad key."""
    clients: dict[str, dict[str, Any]] = {"consumer": {}, "producer": {}}
    workers = 1
    for key, value in overrides.items():
        field = f"spec.configOverrides.{key}"
        if key == WORKERS_KEY:
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 64:
                raise SpecProblem(field, "invalid_value", f"{field} must be a whole number from 1 to 64")
            workers = value
            continue
        side, _, prop = key.partition(".")
        if side not in clients or not prop:
            raise SpecProblem(field, "unknown_field",
                                  f"{field}: overrides are consumer.<property>, producer.<property> or workers")
        if prop in RESERVED_PROPERTIES[side]:
            raise SpecProblem(field, "not_allowed", f"{field}: the replicator sets {prop} itself")
        if not isinstance(value, str | int | float | bool):
            raise SpecProblem(field, "invalid_value", f"{field} must be a string, number or boolean")
        clients[side][prop] = value
    return clients["consumer"], clients["producer"], workers


def worker_config(store: Store, record: AppRecord) -> WorkerConfig:
    spec = K2KSpec.model_validate(record.spec)
    source = resolve_kafka(store, "spec.sourceKafkaLRN", spec.sourceKafkaLRN)
    target = resolve_kafka(store, "spec.targetKafkaLRN", spec.targetKafkaLRN)
    consumer, producer, workers = split_overrides(spec.configOverrides)
    return WorkerConfig(
        app=record.name,
        generation=record.generation,
        group=consumer_group(record.name),
        source=librdkafka_config(source.spec),
        target=librdkafka_config(target.spec),
        topics=spec.topics,
        exactly_once=spec.replicator.exactlyOnce,
        auto_create_topics=spec.replicator.autoCreateTopics,
        auto_create_control_topics=spec.replicator.autoCreateControlTopics,
        keep_timestamps=spec.replicator.keepRecordCreationTimestamp,
        consumer=consumer,
        producer=producer,
        workers=workers,
    )
