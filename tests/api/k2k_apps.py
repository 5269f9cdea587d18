"""K2K apps for API tests: Kafka connections to point them at, minimal documents, and
sending them; the fixtures that use these are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import yaml

APPS = "/api/v0/apps/k2k"
SOURCE_BROKER = "source-kafka.invalid:9092"
TARGET_BROKER = "target-kafka.invalid:9092"
KUBERNETES = {"serviceAccount": "k2k"}  # an optional spec field the `app` fixture sets


@dataclass(frozen=True)
class Clusters:
    """Kafka connections to point apps at: source and target on different hosts, and `twin`,
    another connection to the source's broker address."""

    source_env: str
    target_env: str

    @property
    def source(self) -> str:
        return kafka_lrn(self.source_env, "source")

    @property
    def target(self) -> str:
        return kafka_lrn(self.target_env, "target")

    @property
    def twin(self) -> str:
        return kafka_lrn(self.target_env, "twin")


def kafka_lrn(env: str, connection: str) -> str:
    return f"environments:kafka-connection/{env}/{connection}"


def make_clusters(api: httpx.Client, source_env: str, target_env: str) -> Clusters:
    made = Clusters(source_env=source_env, target_env=target_env)
    for env, connection, broker in [(made.source_env, "source", SOURCE_BROKER),
                                    (made.target_env, "target", TARGET_BROKER),
                                    (made.target_env, "twin", SOURCE_BROKER)]:
        api.put(f"/v1/environments/{env}/kafka-connections/{connection}",
                json={"override_broker_addresses": [broker]}).raise_for_status()
    return made


def app_doc(clusters: Clusters, name: str | None = None, **spec: Any) -> dict[str, Any]:
    """A minimal app document; `spec` fields replace the defaults."""
    return {
        "apiVersion": "v1",
        "kind": "K2KApp",
        "metadata": {"name": name} if name else {},
        "spec": {"sourceKafkaLRN": clusters.source, "targetKafkaLRN": clusters.target, "topics": ["orders"], **spec},
    }


def send_yaml(api: httpx.Client, method: str, path: str, doc: dict | str) -> httpx.Response:
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc)
    return api.request(method, path, content=text, headers={"Content-Type": "application/yaml"})


def create(api: httpx.Client, doc: dict[str, Any]) -> dict[str, Any]:
    response = api.post(APPS, json=doc)
    assert response.status_code == 201, response.text
    return response.json()
