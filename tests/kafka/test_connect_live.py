"""The connector feed against the sandbox's real Kafka Connect worker, through HQ's proxy:
what is done on the worker itself (create, pause, delete) arrives on
`…/proxy/api/kafka-connect/live/sse` within the agent's polls, a client that resumes with
`Last-Event-ID` gets what it missed, the stream ends cleanly when the client goes, and the
environment's `metrics.connect` figures come from the same reading.

The worker is shared with other tests, so each test follows only its own connectors' LRNs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from backend.connect.live import ConnectorLedger
from backend.deps import services_of
from backend.lrn import connector_lrn
from tests.api.hq import RunningHQ, polling_hq
from tests.api.sse_reader import READ_TIMEOUT, EventStream, Frame, live, live_and_ready
from tests.kafka.conftest import source_environment
from tests.waiting import until

pytestmark = pytest.mark.kafka

FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
POLL_SECONDS = 0.5
EVENT_WAIT_SECONDS = 60.0  # a bound that only catches a hang: the agent polls every POLL_SECONDS


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    """An HQ whose built-in agent reads Connect every half second and pings idle feeds as often."""
    with polling_hq(tmp_path_factory.mktemp("hq-connect-live"), POLL_SECONDS, 5.0) as running:
        yield running


@pytest.fixture(scope="module")
def connect_url(sandbox) -> str:
    return sandbox.status()["connect"]["url"]


@pytest.fixture
def environment(client: httpx.Client, unique_name: Callable[[], str], source: dict, connect_url: str) -> str:
    """An environment on the sandbox's source cluster with its Connect worker registered as `main`."""
    name = source_environment(client, unique_name(), source)
    client.put(f"/v1/environments/{name}/connect-clusters/main", json={"urls": [connect_url]}).raise_for_status()
    return name


@pytest.fixture
def connector(connect_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Creates FileStreamSource connectors straight on the worker; deletes what is left after the test."""
    made: list[str] = []

    def create() -> str:
        name = f"live-{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.txt").write_text("hello\n")
        answer = httpx.put(f"{connect_url}/connectors/{name}/config", timeout=30, json={
            "connector.class": FILE_SOURCE, "file": str(tmp_path / f"{name}.txt"), "topic": f"{name}-out",
            "tasks.max": "1"})
        assert answer.status_code == 201, answer.text
        made.append(name)
        return name

    yield create
    for name in made:
        httpx.delete(f"{connect_url}/connectors/{name}", timeout=30)


def feed_path(environment: str) -> str:
    return f"/v1/environments/{environment}/proxy/api/kafka-connect/live/sse"


def ledger_of(hq: RunningHQ, environment: str) -> ConnectorLedger:
    """The environment's ledger as the agent keeps it (public probe: its feed's subscribers, its items)."""
    return services_of(hq.app).agents.agent_context(environment).connectors


def next_of(stream: EventStream, lrn: str, wanted: Callable[[Frame], bool]) -> Frame:
    """The next event about `lrn` that is `wanted`, passing over the rest (other connectors, the
    states a connector goes through on its way, pings). An idle feed pings forever, so a bound
    ends the wait for an event that never comes."""
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        frame = stream.next_frame()
        if frame.comment is None and frame.data.get("lrn") == lrn and wanted(frame):
            return frame
    raise AssertionError(f"waited {EVENT_WAIT_SECONDS:.0f}s for an event about {lrn}")


def test_changes_made_on_the_worker_arrive_on_the_feed(hq, client, environment, connector, connect_url):
    with live_and_ready(client, feed_path(environment)) as (stream, _):
        name = connector()
        lrn = connector_lrn(environment, "main", name)

        created = next_of(stream, lrn, lambda f: f.event == "connector.created")
        assert created.data["name"] == name and created.data["cluster"] == "main"
        assert (created.data["className"], created.data["type"]) == (FILE_SOURCE, "source")
        assert created.data["topics"] == [f"{name}-out"]
        running = created if created.data["state"] == "RUNNING" else next_of(
            stream, lrn, lambda f: f.event == "connector.updated" and f.data["state"] == "RUNNING")
        assert running.data["workerId"]

        httpx.put(f"{connect_url}/connectors/{name}/pause", timeout=30).raise_for_status()
        paused_on_worker = time.monotonic()
        paused = next_of(stream, lrn, lambda f: f.event == "connector.updated" and f.data["state"] == "PAUSED")
        print(f"PAUSED on the feed {time.monotonic() - paused_on_worker:.2f}s after the worker took it "
              f"(poll {POLL_SECONDS}s)")

        httpx.delete(f"{connect_url}/connectors/{name}", timeout=30).raise_for_status()
        deleted = next_of(stream, lrn, lambda f: f.event == "connector.deleted")
        assert deleted.id > paused.id > created.id
        assert deleted.data["name"] == name


def test_a_client_that_resumes_gets_what_it_missed(hq, client, environment, connector, connect_url):
    with live_and_ready(client, feed_path(environment)) as (stream, _):
        name = connector()
        lrn = connector_lrn(environment, "main", name)
        seen = next_of(stream, lrn, lambda f: f.event == "connector.created")
    ledger = ledger_of(hq, environment)

    httpx.put(f"{connect_url}/connectors/{name}/pause", timeout=30).raise_for_status()
    httpx.delete(f"{connect_url}/connectors/{name}", timeout=30).raise_for_status()
    until(lambda: lrn not in {i.lrn for i in ledger.items()}, 60, "the agent to read the deletion")

    with live_and_ready(client, feed_path(environment), last_event_id=seen.id) as (resumed, ready):
        missed = [f for f in resumed.events_until_idle() if f.data.get("lrn") == lrn]

    assert ready.id == seen.id
    assert missed and all(f.id > seen.id for f in missed)
    assert missed[-1].event == "connector.deleted"
    assert [f.id for f in missed] == sorted(f.id for f in missed)
    assert all(f.event == "connector.updated" for f in missed[:-1])  # whatever states it passed through


def test_a_stream_through_the_proxy_ends_when_its_client_goes(hq, client, environment):
    with live_and_ready(client, feed_path(environment)) as (stream, _):
        ledger = ledger_of(hq, environment)
        assert ledger.feed.subscriber_count == 1
        stream.events_until_idle()  # the shared worker's connectors, then a `: ping`: frames flow as sent

    until(lambda: ledger.feed.subscriber_count == 0, READ_TIMEOUT, "the stream to end with its client")


def test_a_resume_point_this_feed_never_gave_is_told_to_resync(hq, client, environment):
    """An id of another feed (here HQ's own, made before any agent's) cannot be matched: the
    client refetches."""
    with live(client, feed_path(environment), last_event_id=hq.feed.last_id) as stream:
        told = stream.next_event()
        ready = stream.next_event()

    assert told.event == "resync" and told.data["reason"]
    assert ready.event == "ready" and ready.id == told.id


def test_an_environment_that_gets_its_kafka_connection_back_is_followed_again(
        client, environment, connector, source):
    """Without a Kafka connection it has no agent (and the agent drops its ledger); with one again,
    the feed served is the new ledger's, which the agent feeds, though no request came between."""
    def reported() -> bool:
        return client.get(f"/v1/environments/{environment}").json()["status"].get("agent") is not None

    assert client.get(f"/v1/environments/{environment}/proxy/api/agent").status_code == 200  # its app is made
    until(reported, 60, "the agent to report the environment")
    connection = f"/v1/environments/{environment}/kafka-connections/main"
    client.delete(connection).raise_for_status()
    until(lambda: not reported(), 60, "the agent to let the environment go")
    client.put(connection, json={"override_broker_addresses": [source["bootstrap"]]}).raise_for_status()

    with live_and_ready(client, feed_path(environment)) as (stream, _):
        name = connector()
        created = next_of(stream, connector_lrn(environment, "main", name), lambda f: f.event == "connector.created")

    assert created.data["name"] == name


def test_the_connect_figures_come_from_the_same_reading(hq, client, environment, connector, connect_url):
    name = connector()
    ledger = ledger_of(hq, environment)
    until(lambda: connector_lrn(environment, "main", name) in {i.lrn for i in ledger.items()}, 60,
          "the agent to read the new connector")

    def figures_match_the_worker() -> bool:
        on_worker = len(httpx.get(f"{connect_url}/connectors", timeout=30).json())
        connect = client.get(f"/v1/environments/{environment}").json()["status"]["agent"]["metrics"]["connect"]
        # The worker is shared: another test may add one between the two reads, so ask again then.
        return (connect["num_clusters"], connect["num_connectors"]) == (1, on_worker) and on_worker >= 1

    until(figures_match_the_worker, 60, "metrics.connect to count the worker's connectors")
