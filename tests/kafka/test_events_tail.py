"""The tail (`GET …/proxy/api/v1/streams/{s}/tail`) against the sandbox's real Kafka, through
HQ's proxy to its built-in agent: where each `from` starts, its refusals in the event API's
shape, a slow client that holds the tail back instead of growing it, a client that goes and
takes its consumer with it, and the environment's bound of 16 tails."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from backend.deps import services_of
from backend.streams.records import iso_ms
from backend.streams.tail import MAX_TAILS, QUEUED_FRAMES, Tail, TailRegistry, tail_registry
from tests.api.hq import ADMIN_TOKEN, RunningHQ, agent_hq
from tests.api.sse_reader import READ_TIMEOUT, EventStream, Frame, live
from tests.kafka.conftest import create_topic, source_environment
from tests.waiting import until

pytestmark = pytest.mark.kafka

PING_SECONDS = 0.5
T0 = 1_780_000_000_000  # record timestamps the tests set themselves (2026-05-28)
T1 = T0 + 60_000


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    with agent_hq(tmp_path_factory.mktemp("hq-tail"), 5.0, 5.0, sse_ping_seconds=PING_SECONDS) as running:
        yield running


@pytest.fixture(scope="module")
def environment(hq: RunningHQ, source: dict) -> str:
    with hq.client() as api:
        return source_environment(api, "tail", source)


@pytest.fixture
def topic(source: dict) -> Callable[[int], str]:
    """Makes a topic and returns once the broker's metadata has it (on a loaded machine that
    takes a few seconds after the create answered)."""
    admin = AdminClient({"bootstrap.servers": source["bootstrap"]})

    def known(name: str) -> bool:
        metadata = admin.list_topics(name, timeout=10).topics[name]
        return metadata.error is None and bool(metadata.partitions)

    def make(partitions: int = 2) -> str:
        name = f"tail-{uuid.uuid4().hex[:10]}"
        create_topic(source["bootstrap"], name, partitions)
        until(lambda: known(name), 60, f"the metadata to have {name}")
        return name
    return make


@pytest.fixture(scope="module")
def producer(source: dict) -> Iterator[Producer]:
    made = Producer({"bootstrap.servers": source["bootstrap"], "linger.ms": 5})
    yield made
    made.flush(30)


def produce(producer: Producer, topic: str, keys: list[str], *, partitions: int = 2, timestamp: int = 0,
            value_bytes: int = 0) -> None:
    for index, key in enumerate(keys):
        value = {"key": key, "pad": "x" * value_bytes} if value_bytes else {"key": key}
        producer.produce(topic, key=key, value=httpx.Response(200, json=value).content,
                         partition=index % partitions, timestamp=timestamp, headers=[("source", b"test")])
        if index % 1000 == 999:
            producer.poll(0)
    assert producer.flush(30) == 0


def tail_path(environment: str, stream: str) -> str:
    return f"/v1/environments/{environment}/proxy/api/v1/streams/{stream}/tail"


def registry_of(hq: RunningHQ, environment: str) -> TailRegistry:
    """The environment's tails as its agent keeps them (public probes: count, open tails)."""
    context = services_of(hq.app).agents.agent_context(environment)
    return tail_registry(context.kafka_clients, context.resources().kafka)


def records(stream: EventStream, wanted: int) -> list[dict]:
    got: list[dict] = []
    while len(got) < wanted:
        frame = stream.next_event()
        assert frame.event == "records", frame
        got.extend(frame.data["events"])
    return got


def ready(stream: EventStream) -> Frame:
    frame = stream.next_event()
    assert frame.event == "ready", frame
    return frame


def test_a_tail_starts_where_from_says(client, environment, topic, producer):
    name = topic(2)
    produce(producer, name, [f"old-{i}" for i in range(6)], timestamp=T0)
    produce(producer, name, [f"new-{i}" for i in range(4)], timestamp=T1)
    # partition 0: old-0 old-2 old-4 new-0 new-2 (offsets 0-4), partition 1: old-1 old-3 old-5 new-1 new-3

    with live(client, tail_path(environment, name) + "?from=earliest") as stream:
        assert ready(stream).data == {"stream": name, "partitions": [{"partition": 0, "offset": 0},
                                                                      {"partition": 1, "offset": 0}]}
        got = records(stream, 10)
    assert sorted(r["key"] for r in got) == sorted([f"old-{i}" for i in range(6)] + [f"new-{i}" for i in range(4)])
    first = next(r for r in got if r["key"] == "old-0")
    assert first == {"eventId": f"{name}:0:0", "partition": 0, "offset": 0, "timestamp": iso_ms(T0),
                     "key": "old-0", "value": {"key": "old-0"}, "headers": {"source": "test"},
                     "valueEncoding": "json", "keyEncoding": "string"}

    with live(client, tail_path(environment, name) + "?from=3") as stream:
        assert [p["offset"] for p in ready(stream).data["partitions"]] == [3, 3]
        assert sorted(r["key"] for r in records(stream, 4)) == ["new-0", "new-1", "new-2", "new-3"]

    for moment in (iso_ms(T1), iso_ms(T1).removesuffix("Z")):  # without a zone: UTC
        with live(client, tail_path(environment, name) + f"?from={moment}") as stream:
            assert [p["offset"] for p in ready(stream).data["partitions"]] == [3, 3]
            assert sorted(r["key"] for r in records(stream, 4)) == ["new-0", "new-1", "new-2", "new-3"]

    # Before 1970 every record is after it: -1 ms was Kafka's "latest", -2 ms its "earliest".
    for moment in ("1969-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z"):
        with live(client, tail_path(environment, name) + f"?from={moment}") as stream:
            assert [p["offset"] for p in ready(stream).data["partitions"]] == [0, 0]

    with live(client, tail_path(environment, name) + "?from=earliest&partition=1") as stream:
        assert ready(stream).data["partitions"] == [{"partition": 1, "offset": 0}]
        assert [r["key"] for r in records(stream, 5)] == ["old-1", "old-3", "old-5", "new-1", "new-3"]

    with live(client, tail_path(environment, name)) as stream:  # latest
        assert [p["offset"] for p in ready(stream).data["partitions"]] == [5, 5]
        produce(producer, name, ["after"])
        assert [r["key"] for r in records(stream, 1)] == ["after"]


@pytest.mark.parametrize(("query", "status", "code", "field"), [
    ("?from=yesterday", 400, 1002, "from"),
    ("?from=2026-13-01T10:00:00Z", 400, 1002, "from"),  # no 13th month
    ("?from=-1", 400, 1002, "from"),
    ("?from=999", 400, 1002, "from"),  # past the end of every partition
    ("?partition=7", 400, 1000, "partition"),
    ("?partition=-1", 400, 1000, "partition"),
])
def test_a_bad_start_is_refused_naming_its_parameter(hq, client, environment, topic, producer, query, status, code,
                                                     field):
    name = topic(2)
    produce(producer, name, ["a", "b"])
    answer = client.get(tail_path(environment, name) + query)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert (body["code"], body["field"]) == (code, field), body
    # A refused tail holds no slot (those of the tests before close in their own time).
    until(lambda: registry_of(hq, environment).count == 0, READ_TIMEOUT, "no tail to be open")


def test_an_unknown_stream_is_1001(client, environment):
    answer = client.get(tail_path(environment, "no-such-stream-here"))
    assert answer.status_code == 404
    assert answer.json() == {"code": 1001, "message": "STREAM_NOT_FOUND", "field": "streamName",
                             "description": "The environment's Kafka has no stream (topic) 'no-such-stream-here'."}


def only_tail(hq: RunningHQ, environment: str, stream: str) -> Tail:
    """The one tail open on `stream` (those of the tests before may still be closing)."""
    tails = [tail for tail in registry_of(hq, environment).open_tails() if tail.ready.stream == stream]
    assert len(tails) == 1
    return tails[0]


def test_a_slow_client_holds_the_tail_back_and_loses_nothing(hq, client, environment, topic, producer):
    name = topic(2)
    keys = [f"k{i:05d}" for i in range(8000)]
    with live(client, tail_path(environment, name) + "?from=earliest") as stream:
        ready(stream)
        tail = only_tail(hq, environment, name)
        # 8,000 records of 2 KB: more than the sockets between the tail and this client buffer.
        produce(producer, name, keys, value_bytes=2048)
        until(lambda: tail.held_back, 60, "the tail to wait for its client")
        assert tail.queued_frames <= QUEUED_FRAMES
        assert tail.records_read < len(keys)  # it stopped reading: it did not buffer the rest
        got = records(stream, len(keys))
    assert sorted(r["key"] for r in got) == keys  # every record, once
    for partition in (0, 1):
        offsets = [r["offset"] for r in got if r["partition"] == partition]
        assert offsets == list(range(len(keys) // 2))


def test_a_tail_of_a_stream_deleted_under_it_says_1001_and_ends(hq, client, environment, topic, source):
    name = topic(1)
    with live(client, tail_path(environment, name)) as stream:
        ready(stream)
        admin = AdminClient({"bootstrap.servers": source["bootstrap"]})
        admin.delete_topics([name])[name].result(30)
        # librdkafka never reports an assigned partition's topic gone: the tail went on pinging
        error = until(lambda: (frame := stream.next_frame()).comment is None and frame, 30, "an event, not pings",
                      every=0)
        assert (error.event, error.data["code"], error.data["field"]) == ("error", 1001, "streamName"), error
    until(lambda: not [t for t in registry_of(hq, environment).open_tails() if t.ready.stream == name],
          READ_TIMEOUT, "the tail to close")


def test_a_client_that_goes_takes_its_tail_and_consumer_with_it(hq, client, environment, topic):
    name = topic(1)
    with live(client, tail_path(environment, name)) as stream:
        ready(stream)
        tail = only_tail(hq, environment, name)
        assert stream.next_frame().comment == "ping"  # quiet: the stream pings
        assert not tail.closed
    until(lambda: tail.closed and registry_of(hq, environment).count == 0, READ_TIMEOUT,
          "the tail's consumer to close once its client went")


def test_an_environment_takes_16_tails(hq, environment, topic):
    name = topic(1)
    until(lambda: registry_of(hq, environment).count == 0, READ_TIMEOUT, "the tests before to close theirs")
    with httpx.Client(base_url=hq.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                      timeout=READ_TIMEOUT, limits=httpx.Limits(max_connections=MAX_TAILS + 4)) as api:
        with ExitStack() as streams:
            # Each kept: an EventStream that is collected closes its connection (its line iterator closes).
            opened = [streams.enter_context(live(api, tail_path(environment, name))) for _ in range(MAX_TAILS)]
            for stream in opened:
                ready(stream)
            until(lambda: registry_of(hq, environment).count == MAX_TAILS, READ_TIMEOUT, "only these tails open")
            refused = api.get(tail_path(environment, name))
            assert refused.status_code == 429
            assert refused.json()["code"] == 1005
        until(lambda: registry_of(hq, environment).count == 0, READ_TIMEOUT, "the 16 tails to close")
        with live(api, tail_path(environment, name)) as stream:
            ready(stream)
