"""K2K apps with fixed statuses and metrics, for the console's K2K screens (no Kafka here:
the controller is off, and the figures a controller would publish are published by hand)."""

from __future__ import annotations

from backend.deps import services_of
from backend.environments.models import KafkaConnectionSpec
from backend.environments.resources import KAFKA_CONNECTION
from backend.k2k.models import K2KMetrics, PartitionPosition, TopicOffsets
from backend.store import AppRecord, ResourceRecord, Store
from tests.console.conftest import CREATED, HQ, seed_environment

STAMP = "2026-11-23T10:15:00.000Z"
SOURCE = "environments:kafka-connection/prod-eu/main"
TARGET = "environments:kafka-connection/dr-eu/main"


def _connection(store: Store, environment: str, host: str) -> None:
    spec = KafkaConnectionSpec(override_broker_addresses=[f"{host}:9092"])
    store.put_resource(ResourceRecord(environment, KAFKA_CONNECTION.kind, "main", spec.model_dump(mode="json")))


def _status(state: str, message: str, generation: int, observed: int, workers: int) -> dict:
    return {
        "updatedAt": STAMP, "state": state, "statusLastTransitionAt": STAMP, "statusMessage": message,
        "observedGeneration": observed,
        "deployment": {"inSync": generation == observed, "managedResources": [], "pods": [
            {"name": f"w-{i}", "namespace": "local", "state": "running"} for i in range(workers)]},
    }


APPS = [
    # name, topics, state, message, generation, observed, workers, (records/s, lag per partition)
    ("orders-dr", ["orders", "payments"], "running", "2 workers copying", 4, 4, 2, (5210.0, 12)),
    ("audit-archive", ["regex:audit-.*"], "paused", "paused: no worker runs; positions are kept on the target",
     2, 2, 0, (0.0, 4800)),
    ("clickstream", ["clicks"], "failed", "target topic clicks missing on the target cluster: create it or set "
     "spec.replicator.autoCreateTopics", 1, 0, 0, (880.0, 91_000)),
]


def metrics(topics: list[str], rate: float, lag: int) -> K2KMetrics:
    def throughput(value: float) -> dict:
        return {"updated_at": STAMP, "records_per_second": value, "bytes_per_second": value * 1000}

    names = [t.replace("regex:", "").replace(".*", "2026") for t in topics]
    return K2KMetrics.model_validate({
        "state": "running", "updated_at": STAMP, "errors": [],
        "source_topics": [{"lrn": f"kafka:topic/prod-eu/main/{t}", "name": t, "throughput": throughput(rate),
                           "offsets": {"updated_at": STAMP, "partitions": [
                               {"partition": p, "log_end_offset": 100_000 + p} for p in range(3)]}}
                          for t in names],
        "destination_topics": [{"lrn": f"kafka:topic/dr-eu/main/{t}", "name": t, "throughput": throughput(rate),
                                "offsets": {"updated_at": STAMP, "partitions": [
                                    {"partition": p, "log_end_offset": 100_000 + p - lag, "lag": lag}
                                    for p in range(3)]}}
                               for t in names],
    })


def seed_k2k(hq: HQ) -> None:
    store = hq.store
    seed_environment(store, "prod-eu", "production", display_name="Production EU")
    seed_environment(store, "dr-eu", "staging", display_name="DR EU")
    _connection(store, "prod-eu", "kafka.prod.eu")
    _connection(store, "dr-eu", "kafka.dr.eu")
    for number, (name, topics, state, message, generation, observed, workers, _) in enumerate(APPS):
        spec = {"sourceKafkaLRN": SOURCE, "targetKafkaLRN": TARGET, "topics": topics,
                "replicator": {"exactlyOnce": name == "orders-dr", "autoCreateTopics": True},
                "paused": state == "paused"}
        store.insert_app(AppRecord(name=name, id=f"00000000-0000-0000-0000-{number:012d}", display_name=None,
                                   description=None, created_at=CREATED, generation=generation, spec=spec))
        store.update_app_status(name, _status(state, message, generation, observed, workers))
    publish_metrics(hq)


def publish_metrics(hq: HQ, rate_factor: float = 1.0, lag_factor: int = 1) -> None:
    collector = services_of(hq.server.server.config.app).k2k.controller.metrics
    for name, topics, *_, (rate, lag) in APPS:
        collector.record(name, metrics(topics, rate * rate_factor, lag * lag_factor))


def positions(topic: str = "orders") -> TopicOffsets:
    return TopicOffsets(application_name="orders-dr", topic_name=topic, partitions=[
        PartitionPosition(partition=p, committed=90_000 + p, earliest=1_000 * p, latest=100_000 + p)
        for p in range(3)])
