"""The agent's upstream client against the sandbox's real Kafka Connect worker and Redpanda
Connect: failover from a worker that refuses to one that answers, the probes on top of it,
and an error status that names the upstream."""

from __future__ import annotations

import httpx
import pytest

from backend.agent.http_services import ConnectWatch, check_ready
from backend.agent.upstream import UpstreamPool, UpstreamStatusError
from backend.environments.models import ConnectClusterSpec, RedpandaConnectSpec
from tests.http_servers import on_a_loop, refusing_url

pytestmark = pytest.mark.kafka


@pytest.fixture
def pool():
    upstreams = UpstreamPool(timeout=10.0)
    yield upstreams
    upstreams.close()


@pytest.fixture(scope="module")
def connect_url(sandbox) -> str:
    return sandbox.status()["connect"]["url"]


def test_a_refusing_worker_fails_over_to_the_real_connect_worker(pool, connect_url):
    expected = httpx.get(f"{connect_url}/connectors", timeout=30).json()
    with refusing_url() as down:
        connect = pool.connect_cluster("main", ConnectClusterSpec(urls=[down, connect_url]))

        assert connect.get_json("/connectors") == expected
        assert len(ConnectWatch(connect).probe().connectors) == len(expected)
        answered = on_a_loop(pool, lambda: connect.arequest("GET", "/"))

    assert answered.status_code == 200
    assert "version" in answered.json()  # the worker's own root document


def test_an_unknown_connector_is_connects_own_404_naming_the_upstream(pool, connect_url):
    connect = pool.connect_cluster("main", ConnectClusterSpec(urls=[connect_url]))

    with pytest.raises(UpstreamStatusError) as raised:
        connect.get_json("/connectors/no-such-connector")

    assert raised.value.response.status_code == 404
    assert raised.value.response.json()["error_code"] == 404  # Connect's body, kept for the route to map
    assert str(raised.value).startswith(f"Kafka Connect main at {connect_url}/connectors/no-such-connector: ")


def test_the_real_redpanda_connect_is_ready_and_a_refusing_one_is_named(pool, sandbox):
    redpanda_url = sandbox.status()["redpanda_connect"]["url"]
    check_ready(pool.redpanda_connect("pipelines", RedpandaConnectSpec(url=redpanda_url)))
    with refusing_url() as down, pytest.raises(ConnectionError, match=f"^{down}: .*refused"):
        check_ready(pool.redpanda_connect("elsewhere", RedpandaConnectSpec(url=down)))
