"""What a worker process needs to run one K2K app, resolved from the app and its Kafka
connections: a self-contained JSON document, so that a local worker and a Kubernetes pod read
the same thing (a file written by the controller, or a ConfigMap plus a Secret)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# librdkafka properties that carry credentials: they go to a Secret, never to a ConfigMap or a log.
SECRET_PROPERTIES = ("sasl.password", "ssl.key.pem", "ssl.key.password", "ssl.certificate.pem")

# Overrides that would break the replicator's own guarantees if a user could set them.
RESERVED_PROPERTIES = {
    "consumer": {"group.id", "group.instance.id", "enable.auto.commit", "enable.auto.offset.store",
                 "bootstrap.servers"},
    "producer": {"transactional.id", "enable.idempotence", "bootstrap.servers", "acks"},
}


def control_topic(app: str) -> str:
    """The app's control topic on the target: each worker's heartbeat (state, partitions, error)."""
    return f"__streamhq-k2k-{app}-status"


def consumer_group(app: str) -> str:
    return f"streamhq-k2k-{app}"


class WorkerConfig(BaseModel):
    app: str
    generation: int
    group: str
    source: dict[str, Any]
    target: dict[str, Any]
    topics: list[str]
    exactly_once: bool = False
    auto_create_topics: bool = False
    auto_create_control_topics: bool = False
    keep_timestamps: bool = False
    consumer: dict[str, Any] = {}
    producer: dict[str, Any] = {}
    workers: int = 1

    def without_secrets(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the config with credentials removed, the credentials): for a ConfigMap and a Secret."""
        public = self.model_dump()
        secrets: dict[str, Any] = {}
        for side in ("source", "target"):
            taken = {k: public[side].pop(k) for k in SECRET_PROPERTIES if k in public[side]}
            if taken:
                secrets[side] = taken
        return public, secrets

    @classmethod
    def load(cls, public: dict[str, Any], secrets: dict[str, Any] | None = None) -> WorkerConfig:
        merged = {**public}
        for side, values in (secrets or {}).items():
            merged[side] = {**merged.get(side, {}), **values}
        return cls.model_validate(merged)
