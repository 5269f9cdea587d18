"""The built-in agent against real clusters: its figures are the cluster's own, failures are
named and retried, and one bad cluster never holds up the others."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from backend.agent.supervisor import AgentSupervisor
from backend.environments.models import ConnectClusterSpec, EnvironmentCreate, RedpandaConnectSpec
from backend.environments.resources import CONNECT_CLUSTER, KAFKA_CONNECTION, REDPANDA_CONNECT
from backend.environments.service import EnvironmentService
from backend.replicator.config import consumer_group
from backend.replicator.offsets import Cluster
from backend.sandbox.components import KafkaCluster
from backend.sandbox.downloads import KAFKA_VERSION, kafka_libs
from backend.store import AppRecord, SQLiteStore
from tests.kafka.conftest import create_topic, plaintext, scram
from tests.kafka.replication import produce_sequences
from tests.waiting import until

pytestmark = pytest.mark.kafka


@pytest.fixture
def service(tmp_path: Path):
    store = SQLiteStore(tmp_path / "hq.db")
    yield EnvironmentService(store)
    store.close()


@pytest.fixture
def agents(service):
    # Short interval: each tick() the test calls finds every watch due, so each one reads; no
    # heartbeat wait: each round writes the status the test then reads, changed or not.
    supervisor = AgentSupervisor(service.store, interval=0.05, timeout=3.0, heartbeat=0.0)
    yield supervisor
    supervisor.stop()


def read(agents: AgentSupervisor) -> None:
    """One agent round in which every watch is due (its interval, or a failing one's backoff,
    has passed)."""
    until(lambda: all(w.due <= time.monotonic() for w in agents.watches()), 60, "every watch to be due")
    agents.tick()


def read_until(agents: AgentSupervisor, condition, rounds: int = 30) -> None:
    """Agent rounds until `condition` holds: a failing probe takes a few rounds to report."""
    for _ in range(rounds):
        read(agents)
        if condition():
            return
    raise AssertionError("the agent never reported it")


def environment(service: EnvironmentService, name: str, connection=None) -> str:
    service.create(EnvironmentCreate(name=name))
    if connection is not None:
        service.put_resource(name, KAFKA_CONNECTION, "main", connection)
    return name


def status(service: EnvironmentService, name: str):
    return service.get(name).status


def test_figures_are_what_the_cluster_itself_reports(service, agents, source):
    topic = f"agent-{uuid.uuid4().hex[:8]}"
    create_topic(source["bootstrap"], topic, partitions=3)
    environment(service, "src", scram(source))
    read(agents)
    producer = Producer({"bootstrap.servers": source["bootstrap"]})
    for i in range(500):
        producer.produce(topic, key=str(i).encode(), value=b"v" * 200, partition=i % 3)
    producer.flush(30)
    read(agents)

    seen = status(service, "src")
    assert seen.agent_connected
    metrics = seen.agent.metrics
    direct = AdminClient({"bootstrap.servers": source["bootstrap"]}).list_topics(timeout=10)
    user_topics = {name: t for name, t in direct.topics.items() if not name.startswith("__")}
    assert metrics.kafka.version == KAFKA_VERSION.rsplit(".", 1)[0]
    assert metrics.kafka.num_brokers == len(direct.brokers)
    assert metrics.data.num_topics == len(user_topics)
    assert metrics.data.num_partitions == sum(len(t.partitions) for t in user_topics.values())
    assert metrics.data.topic_data_total_bytes >= 500 * 200
    assert metrics.data.data_in_messages_per_sec > 0
    assert metrics.data.data_in_bytes_per_sec > 0
    watch = next(w for w in agents.watches() if w.label.startswith("Kafka"))
    assert watch.reading.log_end_total - watch.previous.log_end_total == 500
    assert seen.agent.agent.capabilities.metrics
    assert seen.agent.issues == []


def test_a_k2k_apps_reads_count_against_its_source_and_not_its_target(service, agents, source, target):
    """A K2K app's group commits on the target the positions it read on the source: the source's
    data out counts them, the target's does not (nothing else reads the topic there)."""
    topic = f"agent-k2k-{uuid.uuid4().hex[:8]}"
    for cluster in (source, target):  # the app copies the topic under its own name
        create_topic(cluster["bootstrap"], topic, partitions=2)
    produce_sequences(source, topic, 100, partitions=2)
    environment(service, "copied-from", plaintext(source))
    environment(service, "copied-to", plaintext(target))
    app = f"agent-k2k-{uuid.uuid4().hex[:8]}"
    service.store.insert_app(AppRecord(
        name=app, id=str(uuid.uuid4()), display_name=None, description=None, created_at="2026-01-01T00:00:00Z",
        generation=1, spec={"sourceKafkaLRN": "environments:kafka-connection/copied-from/main",
                            "targetKafkaLRN": "environments:kafka-connection/copied-to/main", "topics": [topic]}))
    on_target = Cluster({"bootstrap.servers": target["bootstrap"]})
    # What the app's worker does as it copies: commit its source positions in its group on the target.
    on_target.commit(consumer_group(app), {(topic, 0): 0, (topic, 1): 0})
    read(agents)
    on_target.commit(consumer_group(app), {(topic, 0): 100, (topic, 1): 100})
    read(agents)

    assert status(service, "copied-from").agent.metrics.data.data_out_bytes_per_sec > 0
    assert status(service, "copied-to").agent.metrics.data.data_out_bytes_per_sec == 0


def test_wrong_credentials_are_a_named_issue_and_not_a_hang(service, agents, source):
    environment(service, "locked-out", scram(source, password="not-the-password"))
    read_until(agents, lambda: "Authentication" in str(status(service, "locked-out").agent.issues))
    seen = status(service, "locked-out")
    assert not seen.agent_connected
    assert any("Authentication failed" in issue for issue in seen.agent.issues), seen.agent.issues
    assert seen.agent.metrics.other.num_issues == len(seen.agent.issues)


def test_one_unreachable_cluster_does_not_hold_up_the_others(service, agents, source):
    environment(service, "healthy", plaintext(source))
    environment(service, "gone", plaintext({"bootstrap": "127.0.0.1:1"}))
    read_until(agents, lambda: "refused" in str(status(service, "gone").agent.issues))
    first = status(service, "healthy").agent.updated_at
    read(agents)
    assert status(service, "healthy").agent_connected
    assert status(service, "healthy").agent.updated_at > first
    gone = status(service, "gone")
    assert not gone.agent_connected
    assert any("Connection refused" in issue for issue in gone.agent.issues), gone.agent.issues


def test_environments_on_one_cluster_share_one_watch(service, agents, source):
    for name in ("shared-a", "shared-b", "shared-c"):
        environment(service, name, plaintext(source))
    read(agents)
    assert sum(1 for w in agents.watches() if w.label.startswith("Kafka")) == 1
    assert all(status(service, n).agent_connected for n in ("shared-a", "shared-b", "shared-c"))


def test_connectors_of_a_registered_connect_cluster_are_counted(service, agents, sandbox, source, tmp_path):
    connect = sandbox.status()["connect"]["url"]
    name = f"file-source-{uuid.uuid4().hex[:6]}"
    (tmp_path / "in.txt").write_text("hello\n")
    created = httpx.put(f"{connect}/connectors/{name}/config", json={
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "file": str(tmp_path / "in.txt"), "topic": f"{name}-out", "tasks.max": "1"}, timeout=30)
    assert created.status_code in (200, 201), created.text
    try:
        env = environment(service, "with-connect", plaintext(source))
        service.put_resource(env, CONNECT_CLUSTER, "main", ConnectClusterSpec(urls=[connect]))
        service.put_resource(env, REDPANDA_CONNECT, "main",
                             RedpandaConnectSpec(url=sandbox.status()["redpanda_connect"]["url"]))
        expected = len(httpx.get(f"{connect}/connectors").json())
        assert expected >= 1

        def counted() -> tuple[int | None, int | None]:
            connect_metrics = status(service, env).agent.metrics.connect
            return connect_metrics.num_clusters, connect_metrics.num_connectors

        # The agent counts the worker's expanded list, which leaves out a connector whose status the
        # worker has not written yet (just created): a round or two later it is there.
        read_until(agents, lambda: counted() == (1, expected))
        assert status(service, env).agent.issues == []
        service.put_resource(env, REDPANDA_CONNECT, "elsewhere", RedpandaConnectSpec(url="http://127.0.0.1:1"))
        read(agents)
        assert any("Redpanda Connect elsewhere" in i for i in status(service, env).agent.issues)
    finally:
        httpx.delete(f"{connect}/connectors/{name}", timeout=30)


def test_removing_the_last_connection_clears_the_agent_status(service, agents, source):
    env = environment(service, "forgetful", plaintext(source))
    read(agents)
    assert status(service, env).agent is not None
    service.delete_resource(env, KAFKA_CONNECTION, "main")
    read(agents)
    assert status(service, env).agent is None


def test_a_stopped_broker_flips_the_environment_and_back_after_restart(service, tmp_path):
    """A cluster of its own, so stopping it disturbs no other test. The agent runs on its own
    thread here, as in HQ; the flips are printed for the record, not asserted against a clock."""
    cluster = KafkaCluster("flaky", tmp_path / "flaky")
    libs = kafka_libs()
    cluster.start(libs, timeout=180)
    agents = AgentSupervisor(service.store, interval=1.0, timeout=2.0)
    try:
        env = environment(service, "flaky", plaintext(cluster.summary()))
        agents.start()
        until(lambda: status(service, env).agent_connected, 60, "the environment connected")
        from backend.sandbox.processes import stop

        stopped = time.monotonic()
        stop(cluster.process)
        until(lambda: not status(service, env).agent_connected, 60, "a disconnect after the broker stopped")
        print(f"flipped to disconnected {time.monotonic() - stopped:.1f}s after the broker stopped")
        restarted = time.monotonic()
        cluster.start(libs, timeout=180)
        until(lambda: status(service, env).agent_connected, 120, "the environment connected again after the restart")
        print(f"flipped back {time.monotonic() - restarted:.1f}s after the broker was healthy again")
    finally:
        agents.stop()
        if cluster.process:
            from backend.sandbox.processes import stop

            stop(cluster.process)


