"""`streamhq sandbox`: real clusters with PLAINTEXT and SCRAM listeners, a Connect cluster
with its plugins on each, Redpanda Connect in streams mode; `up` reuses what runs; one Connect
worker can be stopped and started again with its connectors."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from backend.agent.kafka import librdkafka_config
from backend.environments.resources import CONNECT_CLUSTER
from backend.environments.service import EnvironmentService
from backend.sandbox.demo import register
from backend.store import SQLiteStore
from tests.kafka.conftest import scram
from tests.waiting import until

pytestmark = pytest.mark.kafka


def test_status_names_every_part(sandbox):
    status = sandbox.status()
    assert set(status["clusters"]) == {"source", "target"}
    assert status["clusters"]["source"]["bootstrap"] != status["clusters"]["target"]["bootstrap"]
    assert status["connect"]["url"].startswith("http://127.0.0.1:")
    assert status["redpanda_connect"]["url"].startswith("http://127.0.0.1:")
    assert set(status["connects"]) == {"source", "target"}
    assert status["connects"]["source"] == status["connect"]
    assert status["connects"]["target"]["url"].startswith("http://127.0.0.1:")
    assert status["connects"]["target"]["url"] != status["connect"]["url"]
    assert {kafka: w["kafka"] for kafka, w in status["connects"].items()} == {"source": "source", "target": "target"}


@pytest.mark.parametrize("cluster", ["source", "target"])
def test_the_scram_listener_takes_the_known_user_and_refuses_others(source, sandbox, cluster):
    details = sandbox.status()["clusters"][cluster]
    good = AdminClient(librdkafka_config(scram(details)))
    assert good.list_topics(timeout=10).brokers
    bad = AdminClient(librdkafka_config(scram(details, password="wrong")) | {"logger": _silent()})
    with pytest.raises(KafkaException):
        bad.list_topics(timeout=3)


@pytest.mark.parametrize("kafka", ["source", "target"])
def test_connect_has_the_filestream_and_mirrormaker_plugins(connect_urls, kafka):
    listed = httpx.get(f"{connect_urls[kafka]}/connector-plugins").json()
    plugins = {p["class"].rsplit(".", 1)[-1] for p in listed}
    assert {"FileStreamSourceConnector", "FileStreamSinkConnector", "MirrorSourceConnector"} <= plugins


def test_each_connect_cluster_works_on_its_own_kafka_and_holds_its_own_connectors(sandbox, connect_urls,
                                                                                  tmp_path):
    for kafka, url in connect_urls.items():
        admin = AdminClient({"bootstrap.servers": sandbox.status()["clusters"][kafka]["bootstrap"]})
        assert httpx.get(url).json()["kafka_cluster_id"] == admin.describe_cluster().result(30).cluster_id
    name = paused_file_source(connect_urls["source"], tmp_path)
    try:
        assert name in httpx.get(f"{connect_urls['source']}/connectors").json()
        assert name not in httpx.get(f"{connect_urls['target']}/connectors").json()
    finally:
        httpx.delete(f"{connect_urls['source']}/connectors/{name}").raise_for_status()


def test_a_stopped_connect_worker_refuses_then_comes_back_with_its_connectors(sandbox, connect_urls,
                                                                             connect_outage, tmp_path):
    target = connect_urls["target"]
    name = paused_file_source(target, tmp_path)
    until(lambda: connector_state(target, name) == "PAUSED", 60, f"{name} to be PAUSED")

    connect_outage.stop("target")

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{target}/connectors")
    assert sandbox.status()["connects"]["target"] is None
    assert httpx.get(f"{connect_urls['source']}/health").status_code == 200

    connect_outage.start("target")

    assert sandbox.status()["connects"]["target"]["url"] == target
    assert until(lambda: connector_state(target, name), 60, f"{name} to be back") == "PAUSED"
    httpx.delete(f"{target}/connectors/{name}").raise_for_status()


def test_the_demo_registers_each_connect_cluster_on_the_environment_of_its_kafka(sandbox, tmp_path):
    store = SQLiteStore(tmp_path / "hq.db")
    try:
        service = EnvironmentService(store)
        status = sandbox.status()
        register(service, status)
        registered = {env: [(c.name, [str(u).rstrip("/") for u in c.urls])
                            for c in service.list_resources(env, CONNECT_CLUSTER)] for env in ("source", "target")}
    finally:
        store.close()
    assert registered == {env: [("sandbox", [status["connects"][env]["url"]])] for env in ("source", "target")}


def test_the_connect_environment_holds_both_clusters_and_its_agent_reads_both(connect_environment):
    with connect_environment.hq.client() as api:
        listed = api.get(f"/v1/environments/{connect_environment.name}/connect-clusters").json()["items"]
        assert {c["name"]: [u.rstrip("/") for u in c["urls"]] for c in listed} == {
            kafka: [url] for kafka, url in connect_environment.clusters.items()}

        def connect_figures():
            agent = api.get(f"/v1/environments/{connect_environment.name}").json()["status"].get("agent") or {}
            return (agent.get("metrics") or {}).get("connect")

        assert until(connect_figures, 60, "the agent to read the Connect clusters")["num_clusters"] == 2


def paused_file_source(url: str, tmp_path: Path) -> str:
    """A FileStreamSource created PAUSED (KIP-980) straight on the worker; returns its name."""
    name = f"sandbox-test-{uuid.uuid4().hex[:8]}"
    file = tmp_path / f"{name}.txt"
    file.write_text("one line\n")
    created = httpx.post(f"{url}/connectors", json={"name": name, "initial_state": "PAUSED", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "tasks.max": "1",
        "file": str(file), "topic": f"{name}-topic"}}, timeout=30)
    assert created.status_code == 201, created.text
    return name


def connector_state(url: str, name: str) -> str | None:
    answer = httpx.get(f"{url}/connectors/{name}/status", timeout=10)
    return answer.json()["connector"]["state"] if answer.status_code == 200 else None


def test_redpanda_connect_runs_in_streams_mode(sandbox):
    url = sandbox.status()["redpanda_connect"]["url"]
    assert httpx.get(f"{url}/ready").status_code == 200
    assert httpx.get(f"{url}/streams").json() == {}


def test_up_again_reuses_the_running_processes(sandbox):
    def processes():
        return {c.name: c.process for c in (*sandbox.clusters.values(), *sandbox.connects.values())}

    before = processes()
    sandbox.up()
    assert processes() == before


def _silent():
    import logging

    quiet = logging.getLogger("tests.librdkafka")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return quiet
