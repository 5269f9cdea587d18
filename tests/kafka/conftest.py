"""Real Apache Kafka for the tests that need it: the sandbox of `streamhq sandbox`, started
once per test session (the first run fetches Kafka from Maven Central into the user cache),
with its two Kafka Connect clusters, one on each Kafka."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from backend.environments.models import KafkaConnectionSpec
from backend.sandbox import Sandbox
from backend.settings import Settings
from tests.api.hq import ADMIN_TOKEN, RunningHQ, add_environment, running_hq
from tests.waiting import until


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


@pytest.fixture(scope="session")
def connect_urls(sandbox: Sandbox) -> dict[str, str]:
    """The REST URL of each Connect cluster, keyed by the Kafka cluster it works on:
    `{"source": ..., "target": ...}`."""
    return {kafka: worker["url"] for kafka, worker in sandbox.status()["connects"].items()}


@pytest.fixture
def client(hq: RunningHQ) -> Iterator[httpx.Client]:
    """An admin's client of the module's own `hq` (each module starts the HQ its tests need)."""
    with hq.client() as http:
        yield http


def source_environment(api: httpx.Client, name: str, source: dict) -> str:
    """Creates environment `name` whose Kafka connection `main` is the sandbox's source cluster."""
    return add_environment(api, name, plaintext(source).model_dump(mode="json", exclude_none=True))


@dataclass(frozen=True)
class ConnectEnvironment:
    """An HQ (with its built-in agent) holding one environment, `name`, whose Connect clusters
    are both sandbox workers, registered under the name of the Kafka each works on."""

    hq: RunningHQ
    name: str
    clusters: dict[str, str]  # Connect cluster name -> its worker's URL

    @property
    def proxy(self) -> str:
        """The environment's Kafka Connect routes, through HQ's proxy."""
        return f"/api/v1/environments/{self.name}/proxy/api/kafka-connect"


CONNECT_POLL_SECONDS = 1.0  # the agent's interval in `connect_environment`: a feed test waits a second, not five


@pytest.fixture(scope="session")
def connect_environment(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox,
                        connect_urls: dict[str, str]) -> Iterator[ConnectEnvironment]:
    settings = Settings(home=tmp_path_factory.mktemp("hq-connect"), admin_token=ADMIN_TOKEN, k2k_controller=False,
                        agent_interval_seconds=CONNECT_POLL_SECONDS, agent_timeout_seconds=3.0)
    name = "connect"
    with running_hq(settings) as hq, hq.client() as api:
        api.post("/v1/environments", json={"name": name, "tier": "development"}).raise_for_status()
        api.put(f"/v1/environments/{name}/kafka-connections/sandbox",
                json={"override_broker_addresses": [sandbox.status()["clusters"]["source"]["bootstrap"]]},
                ).raise_for_status()
        for cluster, url in connect_urls.items():
            api.put(f"/v1/environments/{name}/connect-clusters/{cluster}", json={"urls": [url]}).raise_for_status()
        yield ConnectEnvironment(hq, name, dict(connect_urls))


@dataclass
class ConnectOutage:
    """Stops a sandbox Connect worker mid-test and starts it again; whatever a test leaves
    stopped is started by the fixture after it, so the next test finds both clusters up."""

    sandbox: Sandbox
    stopped: set[str] = field(default_factory=set)

    def stop(self, kafka: str = "target") -> None:
        """Returns once the worker's process is gone (its URL refuses connections)."""
        self.stopped.add(kafka)
        self.sandbox.stop_connect(kafka)

    def start(self, kafka: str = "target") -> None:
        """Returns once the worker is healthy again, with its connectors (same storage topics)."""
        self.sandbox.start_connect(kafka)
        self.stopped.discard(kafka)


@pytest.fixture
def connect_outage(sandbox: Sandbox) -> Iterator[ConnectOutage]:
    """Stopping the worker of a shared sandbox (STREAMHQ_TEST_SANDBOX) stops it for every session
    using it, for as long as the test keeps it down."""
    outage = ConnectOutage(sandbox)
    yield outage
    for kafka in sorted(outage.stopped):
        outage.start(kafka)


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


TOKEN = "e2e-connect-token"  # the session token of an EmbeddedHQ


class EmbeddedHQ:
    """A real HQ with its built-in agent on a UNIX socket, which a test can stop and start again."""

    def __init__(self, home: Path) -> None:
        self.socket = home / "hq.sock"
        self.settings = Settings(home=home / "hq", session_token=TOKEN, k2k_controller=False,
                                 agent_interval_seconds=1.0, agent_timeout_seconds=10.0)
        self.server = None
        self.start()

    def start(self) -> None:
        from backend.app import create_app
        from backend.server import ServerThread, unix_socket

        self.server = ServerThread(create_app(self.settings), unix_socket(self.socket)).start()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def embedded_hq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedHQ]:
    """The console tests' HQ (the console's config dir is the test's own)."""
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path / "config"))
    hq = EmbeddedHQ(tmp_path)
    yield hq
    hq.stop()


def consume_and_commit(bootstrap: str, topic: str, group: str, records: int) -> None:
    """A consumer of `group` reads `records` records, commits where it is, and stops (leaves)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen = 0

    def all_read() -> bool:
        nonlocal seen
        message = consumer.poll(1.0)
        seen += message is not None and not message.error()
        return seen >= records

    until(all_read, 60, f"{records} records consumed", every=0)
    consumer.commit(asynchronous=False)
    consumer.close()

