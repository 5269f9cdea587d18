"""The agent's feeds as HQ's proxy serves them (the connectors', `…/proxy/api/kafka-connect/live/sse`,
and the streams' and groups', `…/proxy/api/v1/streams/live/sse`), with no worker or cluster
needed: what the environment's ledger publishes streams through the proxy as it happens, with
HQ's Last-Event-ID rules, and the stream ends with its client. (tests/kafka/test_connect_live.py
and test_events_live.py follow a real worker's and a real cluster's changes.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from backend.connect.live import ConnectorLedger
from backend.connect.models import ConnectorListItem, ConnectStatus
from backend.deps import services_of
from backend.lrn import connector_lrn
from backend.streams.live import StreamsReading
from backend.streams.models import GroupSummary, StreamSummary
from tests.api.hq import PREFIXES, RunningHQ, add_environment, agent_hq
from tests.api.sse_reader import READ_TIMEOUT, live, live_and_ready
from tests.http_servers import refusing_url
from tests.waiting import until

# The streams' feed, as HQ's OpenAPI lists it under each prefix's proxy.
STREAMS_FEED_OPERATIONS = {("GET", f"{prefix}/environments/{{name}}/proxy/api/v1/streams/live/sse")
                           for prefix in PREFIXES}


@pytest.fixture(scope="module")
def hq_with_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    with agent_hq(Path(tmp_path_factory.mktemp("hq-agent-feeds")), 0.5, 1.0, sse_ping_seconds=0.2) as running:
        yield running


@pytest.fixture
def environment(client: httpx.Client, unique_name: Callable[[], str]) -> Iterator[str]:
    """An environment whose agent exists (it has a Kafka connection, to brokers that refuse) with
    a Connect cluster `main` that refuses too: the agent never reads it, so what the ledger holds
    of it is only what a test put there (and stays, as a failed cluster's connectors do)."""
    name = add_environment(client, unique_name())
    with refusing_url() as down:
        client.put(f"/v1/environments/{name}/connect-clusters/main", json={"urls": [down]}).raise_for_status()
        yield name


def ledger_of(hq: RunningHQ, environment: str) -> ConnectorLedger:
    return services_of(hq.app).agents.agent_context(environment).connectors


def connector(environment: str, name: str, state: ConnectStatus = ConnectStatus.RUNNING) -> ConnectorListItem:
    return ConnectorListItem(name=name, lrn=connector_lrn(environment, "main", name), cluster="main", state=state)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_what_the_ledger_publishes_streams_through_the_proxy_as_it_happens(hq_with_agent, client, environment,
                                                                           prefix):
    ledger = ledger_of(hq_with_agent, environment)
    with live_and_ready(client, f"{prefix}/environments/{environment}/proxy/api/kafka-connect/live/sse") as (
            stream, ready):
        assert stream.next_frame().comment == "ping"  # the agent's own interval, through the proxy unbuffered
        ledger.apply_one(connector(environment, "orders"))
        created = stream.next_event()
        ledger.apply_one(connector(environment, "orders", ConnectStatus.PAUSED))
        paused = stream.next_event()

    assert (created.event, created.data) == ("connector.created", connector(environment, "orders").model_dump(
        mode="json", by_alias=True))
    assert (paused.event, paused.data["state"]) == ("connector.updated", "PAUSED")
    assert ready.id < created.id < paused.id


def test_a_client_resumes_from_its_last_event_or_is_told_to_resync(hq_with_agent, client, environment):
    ledger = ledger_of(hq_with_agent, environment)
    path = f"/v1/environments/{environment}/proxy/api/kafka-connect/live/sse"
    ledger.apply_one(connector(environment, "a"))
    with live_and_ready(client, path) as (_, ready):
        pass
    ledger.apply_one(connector(environment, "b"))
    ledger.remove("main", "a")

    with live_and_ready(client, path, last_event_id=ready.id) as (resumed, _):
        missed = resumed.events_until_idle()
    with live(client, path, last_event_id=hq_with_agent.feed.last_id) as foreign:  # HQ's feed's id, not this one's
        told = foreign.next_event()

    assert [(f.event, f.data["name"]) for f in missed] == [("connector.created", "b"), ("connector.deleted", "a")]
    assert told.event == "resync"


def test_the_stream_ends_with_its_client(hq_with_agent, client, environment):
    ledger = ledger_of(hq_with_agent, environment)
    with live_and_ready(client, f"/v1/environments/{environment}/proxy/api/kafka-connect/live/sse"):
        assert ledger.feed.subscriber_count == 1

    until(lambda: ledger.feed.subscriber_count == 0, READ_TIMEOUT, "the agent's stream to end with its client")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_streams_ledger_publishes_through_the_proxy_and_a_client_resumes_from_its_last_event(
        hq_with_agent, client, environment, prefix):
    ledger = services_of(hq_with_agent.app).agents.agent_context(environment).streams
    path = f"{prefix}/environments/{environment}/proxy/api/v1/streams/live/sse"
    orders = StreamSummary(name="orders", partitions=1, replicationFactor=1, totalMessages=0, totalSize=0)
    billing = GroupSummary(groupId="billing", state="Empty", members=0, streams=["orders"], totalLag=3)
    with live_and_ready(client, path) as (stream, ready):
        ledger.apply("main", StreamsReading([orders], [billing], 1.0))
        created = [stream.next_event(), stream.next_event()]
    ledger.apply("main", StreamsReading([], [billing], 2.0))

    with live_and_ready(client, path, last_event_id=created[-1].id) as (resumed, _):
        missed = resumed.events_until_idle()

    assert [(f.event, f.data["lrn"]) for f in created] == [
        ("stream.created", f"kafka:topic/{environment}/main/orders"),
        ("consumer-group.created", f"kafka:consumer-group/{environment}/main/billing")]
    assert created[1].data["totalLag"] == 3 and ready.id < created[0].id
    assert [(f.event, f.data["name"]) for f in missed] == [("stream.deleted", "orders")]
