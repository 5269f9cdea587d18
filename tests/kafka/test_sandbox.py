"""`streamhq sandbox`: real clusters with PLAINTEXT and SCRAM listeners, Connect with its
plugins, Redpanda Connect in streams mode; `up` reuses what runs."""

from __future__ import annotations

import httpx
import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from backend.agent.kafka import librdkafka_config
from tests.kafka.conftest import scram

pytestmark = pytest.mark.kafka


def test_status_names_every_part(sandbox):
    status = sandbox.status()
    assert set(status["clusters"]) == {"source", "target"}
    assert status["clusters"]["source"]["bootstrap"] != status["clusters"]["target"]["bootstrap"]
    assert status["connect"]["url"].startswith("http://127.0.0.1:")
    assert status["redpanda_connect"]["url"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize("cluster", ["source", "target"])
def test_the_scram_listener_takes_the_known_user_and_refuses_others(source, sandbox, cluster):
    details = sandbox.status()["clusters"][cluster]
    good = AdminClient(librdkafka_config(scram(details)))
    assert good.list_topics(timeout=10).brokers
    bad = AdminClient(librdkafka_config(scram(details, password="wrong")) | {"logger": _silent()})
    with pytest.raises(KafkaException):
        bad.list_topics(timeout=3)


def test_connect_has_the_filestream_and_mirrormaker_plugins(sandbox):
    listed = httpx.get(f"{sandbox.status()['connect']['url']}/connector-plugins").json()
    plugins = {p["class"].rsplit(".", 1)[-1] for p in listed}
    assert {"FileStreamSourceConnector", "FileStreamSinkConnector", "MirrorSourceConnector"} <= plugins


def test_redpanda_connect_runs_in_streams_mode(sandbox):
    url = sandbox.status()["redpanda_connect"]["url"]
    assert httpx.get(f"{url}/ready").status_code == 200
    assert httpx.get(f"{url}/streams").json() == {}


def test_up_again_reuses_the_running_processes(sandbox):
    before = {name: c.process for name, c in sandbox.clusters.items()}
    sandbox.up()
    assert {name: c.process for name, c in sandbox.clusters.items()} == before


def _silent():
    import logging

    quiet = logging.getLogger("tests.librdkafka")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return quiet
