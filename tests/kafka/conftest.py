"""Real Apache Kafka for the tests that need it: the sandbox of `streamhq sandbox`, started
once per test session (the first run fetches Kafka from Maven Central into the user cache)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from backend.environments.models import KafkaConnectionSpec
from backend.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own, or, with STREAMHQ_TEST_SANDBOX=DIR, the one running there (kept up:
    a developer's quick loop)."""
    reused = os.environ.get("STREAMHQ_TEST_SANDBOX")
    home = Path(reused) if reused else tmp_path_factory.mktemp("sandbox-home")
    box = Sandbox(home, log=lambda message: print(message, flush=True))
    box.up()
    yield box
    if not reused:
        box.down()


@pytest.fixture(scope="session")
def source(sandbox: Sandbox) -> dict:
    return sandbox.status()["clusters"]["source"]


@pytest.fixture(scope="session")
def target(sandbox: Sandbox) -> dict:
    return sandbox.status()["clusters"]["target"]


def scram(cluster: dict, password: str | None = None) -> KafkaConnectionSpec:
    """A kafka-connection to a sandbox cluster's SCRAM-SHA-512 listener."""
    return KafkaConnectionSpec.model_validate({
        "override_broker_addresses": [cluster["sasl_bootstrap"]],
        "auth": {"sasl_scram": {"mechanism": "SCRAM-SHA-512", "username": cluster["username"],
                                "password": password or cluster["password"]}},
    })


def plaintext(cluster: dict) -> KafkaConnectionSpec:
    return KafkaConnectionSpec(override_broker_addresses=[cluster["bootstrap"]])


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(30)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "hq"
