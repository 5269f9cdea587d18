"""The streams feed against the sandbox's real Kafka, through HQ's proxy: what is done on the
cluster itself (a topic created, written to, deleted; a group committing) arrives on
`…/proxy/api/v1/streams/live/sse` within the agent's rounds, with moving totals, a rate and a
lag; a client that resumes with `Last-Event-ID` gets what it missed; and a list stamped with
`X-Last-Event-ID` followed from there misses nothing.

The cluster is shared with other tests, so each test follows only its own topics' and groups' LRNs."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from backend.deps import services_of
from backend.lrn import kafka_consumer_group_lrn, kafka_topic_lrn, resource_lrn
from backend.streams.live import StreamLedger
from tests.api.hq import RunningHQ, polling_hq
from tests.api.sse_reader import EventStream, Frame, live_and_ready
from tests.kafka.conftest import source_environment
from tests.waiting import until

pytestmark = pytest.mark.kafka

ROUND_SECONDS = 1.0
# A bound that only catches a hang: the agent reads every ROUND_SECONDS, but a reading of a
# cluster that other tests fill with thousands of topics takes seconds on a shared machine.
EVENT_WAIT_SECONDS = 120.0


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    """An HQ whose built-in agent reads the cluster every second and pings idle feeds as often."""
    with polling_hq(tmp_path_factory.mktemp("hq-events-live"), ROUND_SECONDS, 10.0) as running:
        yield running


@pytest.fixture
def environment(client: httpx.Client, unique_name: Callable[[], str], source: dict) -> str:
    return source_environment(client, unique_name(), source)


@pytest.fixture(scope="module")
def kafka(source: dict) -> AdminClient:
    return AdminClient({"bootstrap.servers": source["bootstrap"]})


@pytest.fixture
def topic(kafka: AdminClient) -> Iterator[Callable[[int], str]]:
    """Creates topics straight on the cluster; deletes what is left after the test."""
    made: list[str] = []

    def create(partitions: int = 1) -> str:
        name = f"live-{uuid.uuid4().hex[:8]}"
        kafka.create_topics([NewTopic(name, partitions, 1)])[name].result(30)
        made.append(name)
        return name

    yield create
    if doomed := [n for n in made if n in kafka.list_topics(timeout=30).topics]:
        for future in kafka.delete_topics(doomed).values():
            future.result(30)


@pytest.fixture
def group(kafka: AdminClient) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    def name() -> str:
        made.append(f"live-group-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield name
    for future in kafka.delete_consumer_groups(made).values():
        with contextlib.suppress(KafkaException):  # a group that never committed is not there to delete
            future.result(30)


def delete_topic(kafka: AdminClient, name: str) -> None:
    kafka.delete_topics([name])[name].result(30)


def produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(count):
        producer.produce(topic, value=f'{{"n": {i}}}'.encode(), key=f"k{i}".encode())
    assert producer.flush(30) == 0


def commit(bootstrap: str, group: str, topic: str, offset: int) -> None:
    """The group commits `offset` on partition 0, as a consumer that never joins it does."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    finally:
        consumer.close()


def feed_path(environment: str) -> str:
    return f"/v1/environments/{environment}/proxy/api/v1/streams/live/sse"


def topic_lrn(environment: str, name: str) -> str:
    return kafka_topic_lrn(resource_lrn("kafka-connection", environment, "main"), name)


def group_lrn(environment: str, name: str) -> str:
    return kafka_consumer_group_lrn(resource_lrn("kafka-connection", environment, "main"), name)


def ledger_of(hq: RunningHQ, environment: str) -> StreamLedger:
    """The environment's stream ledger as the agent keeps it (public probe: its items)."""
    return services_of(hq.app).agents.agent_context(environment).streams


def next_of(stream: EventStream, lrn: str, wanted: Callable[[Frame], bool],
            passed_over: list[Frame] | None = None) -> Frame:
    """The next event about `lrn` that is `wanted`, passing over the rest (other tests' topics,
    the figures it goes through on its way, pings), which go to `passed_over` when given."""
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        frame = stream.next_frame()
        if frame.comment is not None:
            continue
        assert frame.event != "resync", frame.data
        if frame.data.get("lrn") == lrn and wanted(frame):
            return frame
        if passed_over is not None:
            passed_over.append(frame)
    raise AssertionError(f"waited {EVENT_WAIT_SECONDS:.0f}s for an event about {lrn}")


def test_a_topic_created_written_to_and_deleted_on_the_cluster_arrives_on_the_feed(
        client, environment, topic, kafka, source):
    with live_and_ready(client, feed_path(environment)) as (stream, _):
        name = topic(2)
        lrn = topic_lrn(environment, name)
        created = next_of(stream, lrn, lambda f: f.event == "stream.created")
        assert (created.data["name"], created.data["partitions"], created.data["totalMessages"]) == (name, 2, 0)

        produce(source["bootstrap"], name, 500)
        written = next_of(stream, lrn, lambda f: f.event == "stream.updated" and f.data["totalMessages"] == 500)
        rated = written if written.data["messagesPerSecond"] else next_of(
            stream, lrn, lambda f: f.event == "stream.updated" and f.data["messagesPerSecond"])
        assert rated.data["messagesPerSecond"] > 0 and rated.data["totalSize"] > 0

        delete_topic(kafka, name)
        deleted = next_of(stream, lrn, lambda f: f.event == "stream.deleted")

    assert deleted.id > rated.id > created.id
    assert deleted.data["name"] == name


def test_a_group_that_commits_arrives_on_the_feed_with_its_lag(client, environment, topic, group, source):
    name = topic(1)
    produce(source["bootstrap"], name, 10)
    consumers = group()
    lrn = group_lrn(environment, consumers)
    with live_and_ready(client, feed_path(environment)) as (stream, _):
        commit(source["bootstrap"], consumers, name, 4)
        created = next_of(stream, lrn, lambda f: f.event == "consumer-group.created")
        assert (created.data["groupId"], created.data["streams"]) == (consumers, [name])
        lagging = created if created.data["totalLag"] == 6 else next_of(
            stream, lrn, lambda f: f.event == "consumer-group.updated" and f.data["totalLag"] == 6)

        commit(source["bootstrap"], consumers, name, 10)
        caught_up = next_of(stream, lrn, lambda f: f.event == "consumer-group.updated" and f.data["totalLag"] == 0)

    assert caught_up.id > lagging.id
    assert caught_up.data["members"] == 0 and caught_up.data["k2kApp"] is None


def test_a_client_that_resumes_gets_what_it_missed(hq, client, environment, topic, kafka):
    with live_and_ready(client, feed_path(environment)) as (stream, _):
        name = topic(1)
        lrn = topic_lrn(environment, name)
        seen = next_of(stream, lrn, lambda f: f.event == "stream.created")
    ledger = ledger_of(hq, environment)

    delete_topic(kafka, name)
    until(lambda: name not in {s.name for s in ledger.streams()}, EVENT_WAIT_SECONDS, "the agent to read the deletion")

    with live_and_ready(client, feed_path(environment), last_event_id=seen.id) as (resumed, ready):
        missed = [f for f in resumed.events_until_idle() if f.data.get("lrn") == lrn]

    assert ready.id == seen.id
    assert missed and all(f.id > seen.id for f in missed)
    assert missed[-1].event == "stream.deleted"


def test_a_list_followed_from_its_position_misses_nothing(hq, client, environment, topic, source):
    """What the list holds is not sent again; what comes after it is."""
    events = f"/v1/environments/{environment}/proxy/api/v1"
    before = topic(1)
    ledger = ledger_of(hq, environment)
    until(lambda: {s.name: s.messagesPerSecond for s in ledger.streams()}.get(before) is not None,
          EVENT_WAIT_SECONDS, "the agent to read the topic twice")

    listed = client.get(f"{events}/streams", params={"limit": 10_000})
    groups = client.get(f"{events}/consumers")
    assert listed.status_code == groups.status_code == 200, listed.text + groups.text
    position = int(listed.headers["X-Last-Event-ID"])
    assert int(groups.headers["X-Last-Event-ID"]) >= position
    entry = next(s for s in listed.json()["data"] if s["name"] == before)
    assert entry["messagesPerSecond"] == 0  # the ledger's rate: nothing is written to it

    after = topic(1)
    with live_and_ready(client, feed_path(environment), last_event_id=position) as (stream, ready):
        about_before: list[Frame] = []
        created = next_of(stream, topic_lrn(environment, after), lambda f: f.event == "stream.created",
                          passed_over=about_before)

    assert ready.id == position and created.id > position
    assert not [f for f in about_before if f.data.get("lrn") == topic_lrn(environment, before)
                and f.event == "stream.created"]  # the list had it: it is not sent again
