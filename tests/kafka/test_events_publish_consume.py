"""The event API's publish, consume and commit (seed 004) through HQ's proxy, against the
sandbox's real Kafka: what the API answers is checked against what Kafka itself holds."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from backend.agent.kafka import admin_client, topic_sizes
from backend.streams.members import MAX_MEMBERS
from backend.streams.partitioner import partition_for
from backend.streams.records import iso_ms
from tests.api.hq import ADMIN_TOKEN, RunningHQ, agent_hq
from tests.kafka.conftest import plaintext, source_environment
from tests.kafka.test_events_streams import assert_event_error
from tests.waiting import until

pytestmark = pytest.mark.kafka

TTL_SECONDS = 3.0  # the members' idle TTL in this module's HQ: the expiry test waits for it
SHARED_RECORDS = 10_000


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    with agent_hq(tmp_path_factory.mktemp("hq-events"), 1.0, 10.0, consumer_ttl_seconds=TTL_SECONDS) as running:
        yield running


@pytest.fixture(scope="module")
def bootstrap(source: dict) -> str:
    return source["bootstrap"]


def events_url(hq: RunningHQ, source: dict) -> str:
    """The event API of a new environment on the sandbox's source Kafka, through HQ's proxy."""
    with hq.client() as api:
        name = source_environment(api, f"events-{uuid.uuid4().hex[:8]}", source)
    return f"{hq.url}/api/v1/environments/{name}/proxy/api/v1"


@pytest.fixture(scope="module")
def base_url(hq: RunningHQ, source: dict) -> str:
    return events_url(hq, source)


def event_api(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=120)


@pytest.fixture
def events(base_url: str) -> Iterator[httpx.Client]:
    with event_api(base_url) as client:
        yield client


@pytest.fixture(scope="module")
def kafka(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


@pytest.fixture
def topic(kafka: AdminClient) -> Iterator[Callable[..., str]]:
    """Creates topics directly on Kafka; deletes them after the test."""
    names: list[str] = []

    def create(partitions: int = 1, **config: str) -> str:
        name = f"events-{uuid.uuid4().hex[:10]}"
        kafka.create_topics([NewTopic(name, partitions, 1, config=config)])[name].result(30)
        names.append(name)
        # the brokers learn of a topic after its creation returns (seconds on a loaded machine)
        until(lambda: len(getattr(kafka.list_topics(name, timeout=30).topics[name], "partitions", {})) == partitions
              and kafka.list_topics(name, timeout=30).topics[name].error is None, 60, f"{name} in the metadata")
        return name

    yield create
    for future in kafka.delete_topics(names).values():
        future.result(30)


def group() -> str:
    return f"group-{uuid.uuid4().hex[:10]}"


def records_in(bootstrap: str, stream: str, partitions: int = 1) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "streamhq-test-count"})
    try:
        return sum(high - low for low, high in (consumer.get_watermark_offsets(TopicPartition(stream, p), timeout=30)
                                               for p in range(partitions)))
    finally:
        consumer.close()


def committed(kafka: AdminClient, group_id: str, stream: str, partitions: int = 1) -> dict[int, int]:
    from confluent_kafka import ConsumerGroupTopicPartitions
    answer = kafka.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group_id, [TopicPartition(stream, p) for p in range(partitions)])])
    return {tp.partition: tp.offset for tp in answer[group_id].result(30).topic_partitions}


def group_members(kafka: AdminClient, group_id: str) -> int:
    return len(kafka.describe_consumer_groups([group_id])[group_id].result(30).members)


def consume(events: httpx.Client, stream: str, group_id: str, **params: object) -> dict:
    answer = events.get(f"/streams/{stream}/events", params={"consumerGroup": group_id, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def read_directly(bootstrap: str, stream: str, partition: int, offset: int):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "streamhq-test-read", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(stream, partition, offset)])
        return until(lambda: consumer.poll(1.0), 30, f"{stream}:{partition}:{offset}", every=0)
    finally:
        consumer.close()


def test_publish_then_consume_keeps_key_headers_timestamp_and_event_id(events, topic, bootstrap):
    stream = topic(3)
    sent = {"key": "user-123", "value": {"eventType": "click", "data": {"n": 1}},
            "headers": {"correlationId": "abc-123", "source": "web"}}
    answer = events.post(f"/streams/{stream}/events", json=sent)
    assert answer.status_code == 201, answer.text
    published = answer.json()
    assert published["status"] == "published"
    assert published["eventId"] == f"{stream}:{published['partition']}:{published['offset']}"
    # the broker's record: where the answer says, with the timestamp it says
    record = read_directly(bootstrap, stream, published["partition"], published["offset"])
    assert record.key() == b"user-123" and iso_ms(record.timestamp()[1]) == published["timestamp"]
    assert published["partition"] == partition_for(b"user-123", 3)  # the key places it, murmur2 like Java

    got = consume(events, stream, group(), offset="earliest", timeout=20_000)
    (event,) = got["events"]  # the first call on a new group waits for its assignment: never empty
    assert event["eventId"] == published["eventId"]
    assert (event["partition"], event["offset"], event["timestamp"]) == (
        published["partition"], published["offset"], published["timestamp"])
    assert (event["key"], event["value"], event["headers"]) == (sent["key"], sent["value"], sent["headers"])
    assert event["valueEncoding"] == "json"
    metadata = got["metadata"]
    assert metadata["nextOffset"] == published["offset"] + 1 and metadata["lag"] == 0
    assert sorted(metadata["partitions"]) == [0, 1, 2] and metadata["expiresAt"].endswith("Z")


def test_partition_key_places_the_event_as_librdkafka_places_that_key(events, topic, bootstrap):
    stream = topic(6)
    direct = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    placed = {}
    for name in ("user-1", "user-2", "user-3", "a-much-longer-partition-key"):
        direct.produce(stream, b"{}", name.encode(), on_delivery=lambda _e, m, n=name: placed.__setitem__(n, m))
    direct.flush(30)
    for name, record in placed.items():
        answer = events.post(f"/streams/{stream}/events", json={"key": "other", "value": 1, "partitionKey": name})
        assert answer.status_code == 201, answer.text
        assert answer.json()["partition"] == record.partition() == partition_for(name.encode(), 6)
        stored = read_directly(bootstrap, stream, record.partition(), answer.json()["offset"])
        assert stored.key() == b"other"  # the record keeps its key


def test_records_of_other_producers_come_back_as_text_or_base64(events, topic, bootstrap):
    stream = topic()
    direct = Producer({"bootstrap.servers": bootstrap})
    direct.produce(stream, b"plain text, not JSON", b"k1")
    direct.produce(stream, b"\xff\xfe\x00binary", b"\xc3\x28")
    direct.flush(30)
    got = consume(events, stream, group(), offset="earliest", timeout=20_000, limit=2)["events"]
    got += [] if len(got) == 2 else consume(events, stream, group(), offset="earliest", timeout=20_000)["events"]
    text, binary = got
    assert (text["value"], text["valueEncoding"], text["key"]) == ("plain text, not JSON", "string", "k1")
    assert binary["valueEncoding"] == "base64" and base64.b64decode(binary["value"]) == b"\xff\xfe\x00binary"
    assert binary["keyEncoding"] == "base64" and base64.b64decode(binary["key"]) == b"\xc3\x28"


def test_a_batch_fails_only_its_bad_events(events, topic, bootstrap):
    stream = topic(**{"max.message.bytes": "2000"})
    batch = {"events": [{"key": "a", "value": {"n": 1}},
                        {"key": 5, "value": {"n": 2}},  # a key that is not a string
                        {"key": "c", "value": "x" * 5000},  # over the stream's max.message.bytes
                        {"key": "d", "value": {"n": 4}, "headers": {"h": "v"}},
                        "not an event"]}
    answer = events.post(f"/streams/{stream}/events/batch", json=batch)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["totalEvents"], body["successCount"], body["failureCount"]) == (5, 2, 3)
    assert body["batchId"]
    results = body["results"]
    assert [r["status"] for r in results] == ["published", "failed", "failed", "published", "failed"]
    assert results[1]["error"]["code"] == 1000 and results[1]["error"]["field"] == "events.1.key"
    assert results[2]["error"]["code"] == 1000 and results[2]["error"]["field"] == "value"
    assert results[4]["error"]["code"] == 1000 and results[4]["error"]["field"] == "events.4"
    assert records_in(bootstrap, stream) == 2
    for result in (results[0], results[3]):
        assert result["eventId"] == f"{stream}:0:{result['offset']}"


def test_batch_compression_picks_the_gzip_producer(events, topic, source):
    compressed, plain = topic(), topic()
    value = "a" * 1000
    for stream, compression in ((compressed, "gzip"), (plain, "none")):
        batch = {"events": [{"value": value} for _ in range(500)], "options": {"compression": compression}}
        answer = events.post(f"/streams/{stream}/events/batch", json=batch)
        assert answer.json()["successCount"] == 500, answer.text
    admin = admin_client(plaintext(source), 30_000)
    try:
        sizes = until(lambda: (s := topic_sizes(admin, {compressed: [0], plain: [0]})).get(plain) and s, 30,
                      "the log sizes")
    finally:
        admin.close()
    # 500 KB of one letter: gzip record batches hold a few KB of it, uncompressed ones all of it
    assert sizes[plain] > 500_000 and sizes[compressed] < sizes[plain] / 20, sizes


def test_two_callers_share_a_group_without_loss_or_duplicates(events, topic, base_url):
    stream = topic(4)
    published: set[str] = set()
    started = time.monotonic()
    for start in range(0, SHARED_RECORDS, 500):
        batch = {"events": [{"key": f"k{i}", "value": {"i": i}} for i in range(start, start + 500)]}
        answer = events.post(f"/streams/{stream}/events/batch", json=batch)
        assert answer.json()["successCount"] == 500, answer.text
        published |= {r["eventId"] for r in answer.json()["results"]}
    publish_seconds = time.monotonic() - started
    group_id, lock, seen = group(), threading.Lock(), {0: [], 1: []}

    def caller(number: int) -> None:
        with event_api(base_url) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with lock:
                    if sum(len(ids) for ids in seen.values()) >= SHARED_RECORDS:
                        return
                got = consume(client, stream, group_id, offset="earliest", limit=500, timeout=2000)
                with lock:
                    seen[number] += [e["eventId"] for e in got["events"]]

    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(caller, (0, 1)))
    consume_seconds = time.monotonic() - started
    every = seen[0] + seen[1]
    assert len(every) == len(set(every)) == SHARED_RECORDS and set(every) == published
    assert seen[0] and seen[1]  # both callers got records of the one member
    print(f"\npublished {SHARED_RECORDS} in {publish_seconds:.2f}s, consumed by two callers in "
          f"{consume_seconds:.2f}s ({SHARED_RECORDS / consume_seconds:.0f} records/s)")


def test_an_idle_member_expires_without_committing(events, topic, kafka):
    stream = topic()
    events.post(f"/streams/{stream}/events/batch", json={"events": [{"value": i} for i in range(10)]})
    group_id = group()
    assert len(consume(events, stream, group_id, offset="earliest", limit=4, timeout=20_000)["events"]) == 4
    answer = events.post(f"/consumers/{group_id}/commit")  # no body: the member's positions
    assert answer.status_code == 200, answer.text
    assert answer.json()["committedOffsets"] == [{"stream": stream, "partition": 0, "offset": 4}]
    assert len(consume(events, stream, group_id, limit=3)["events"]) == 3  # the member is at 7 now
    assert group_members(kafka, group_id) == 1
    until(lambda: group_members(kafka, group_id) == 0, 60, "the idle member to leave the group")
    assert committed(kafka, group_id, stream) == {0: 4}  # as committed, not where the member was
    resumed = consume(events, stream, group_id, timeout=20_000)["events"]
    assert [e["offset"] for e in resumed] == list(range(4, 10))  # a new member resumes exactly there


def test_commit_offsets_moves_the_member_or_the_inactive_group(events, topic, kafka):
    stream = topic(2)
    events.post(f"/streams/{stream}/events/batch",
                json={"events": [{"value": i, "partitionKey": "same"} for i in range(10)]})
    partition = partition_for(b"same", 2)
    group_id = group()
    got = consume(events, stream, group_id, offset="earliest", timeout=20_000)["events"]
    assert len(got) == 10
    rewind = {"offsets": [{"stream": stream, "partition": partition, "offset": 6}]}
    answer = events.post(f"/consumers/{group_id}/commit", json=rewind)  # through the member, which moves there
    assert answer.status_code == 200, answer.text
    assert committed(kafka, group_id, stream, 2)[partition] == 6
    again = consume(events, stream, group_id, timeout=20_000)["events"]
    assert [e["offset"] for e in again] == [6, 7, 8, 9]

    inactive = group()  # nobody consumes in it: set through the admin API
    answer = events.post(f"/consumers/{inactive}/commit",
                         json={"offsets": [{"stream": stream, "partition": partition, "offset": 8}]})
    assert answer.status_code == 200, answer.text
    resumed = consume(events, stream, inactive, offset="earliest", timeout=20_000)["events"]
    assert [e["offset"] for e in resumed if e["partition"] == partition] == [8, 9]


def test_a_commit_through_the_member_is_checked_as_on_an_inactive_group(events, topic, kafka):
    stream = topic(2)
    events.post(f"/streams/{stream}/events/batch", json={"events": [{"value": i} for i in range(4)]})
    group_id = group()
    consume(events, stream, group_id, offset="earliest", timeout=20_000)
    before = committed(kafka, group_id, stream, 2)

    def commit(*entries: tuple[int, int]):
        return events.post(f"/consumers/{group_id}/commit", json={"offsets": [
            {"stream": stream, "partition": partition, "offset": offset} for partition, offset in entries]})

    assert_event_error(commit((7, 0)), 400, 1000, "offsets.0.partition")  # was Kafka's refusal as a 502
    assert_event_error(commit((0, 10**9)), 400, 1002, "offsets.0.offset")  # was committed: records skipped
    assert_event_error(commit((0, 1), (0, 2)), 400, 1000, "offsets.1.partition")  # which one? was both
    assert committed(kafka, group_id, stream, 2) == before


def test_a_member_whose_stream_is_deleted_answers_1001(events, kafka):
    stream = f"events-{uuid.uuid4().hex[:10]}"  # deleted by the test itself, not the fixture
    kafka.create_topics([NewTopic(stream, 1, 1)])[stream].result(30)
    until(lambda: kafka.list_topics(stream, timeout=30).topics[stream].error is None, 60, f"{stream} in the metadata")
    events.post(f"/streams/{stream}/events", json={"value": 1})
    group_id = group()
    assert len(consume(events, stream, group_id, offset="earliest", timeout=20_000)["events"]) == 1
    kafka.delete_topics([stream])[stream].result(30)
    # The member answered an empty 200 for as long as it was polled (librdkafka reports a
    # subscribed topic gone only at its metadata refresh): a caller never learnt of the delete.
    until(lambda: events.get(f"/streams/{stream}/events", params={"consumerGroup": group_id, "timeout": 500}
                             ).status_code == 404, 30, "a consume to answer 1001")
    assert_event_error(events.get(f"/streams/{stream}/events", params={"consumerGroup": group_id}), 404, 1001,
                       "streamName")


def test_an_idempotency_key_writes_once(events, topic, bootstrap):
    stream = topic()
    body, key = {"key": "k", "value": {"order": 1}}, {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    first = events.post(f"/streams/{stream}/events", json=body, headers=key)
    second = events.post(f"/streams/{stream}/events", json=body, headers=key)
    assert first.status_code == second.status_code == 201, second.text
    assert first.json() == second.json()
    assert records_in(bootstrap, stream) == 1
    other = events.post(f"/streams/{stream}/events", json={**body, "value": {"order": 2}}, headers=key)
    assert_event_error(other, 409, 1008, "Idempotency-Key")
    batch = {"events": [{"value": 1}, {"value": 2}]}
    batch_key = {"Idempotency-Key": f"batch-{uuid.uuid4()}"}
    answers = [events.post(f"/streams/{stream}/events/batch", json=batch, headers=batch_key) for _ in range(2)]
    assert answers[0].json() == answers[1].json()
    assert records_in(bootstrap, stream) == 3
    assert_event_error(events.post(f"/streams/{stream}/events", json=body, headers={"Idempotency-Key": "x" * 256}),
                       400, 1000, "Idempotency-Key")


def test_error_codes(events, topic, bootstrap):
    stream = topic()
    missing = f"no-such-{uuid.uuid4().hex[:8]}"
    assert_event_error(events.get(f"/streams/{stream}/events"), 400, 1000, "consumerGroup")
    assert_event_error(events.get(f"/streams/{stream}/events", params={"consumerGroup": "g", "offset": "soon"}),
                       400, 1000, "offset")
    assert_event_error(events.get(f"/streams/{stream}/events", params={"consumerGroup": "g", "limit": 1001}),
                       400, 1000, "limit")
    assert_event_error(events.post(f"/streams/{missing}/events", json={"value": 1}), 404, 1001, "streamName")
    assert_event_error(events.post(f"/streams/{missing}/events/batch", json={"events": [{"value": 1}]}),
                       404, 1001, "streamName")
    assert_event_error(events.get(f"/streams/{missing}/events", params={"consumerGroup": group()}),
                       404, 1001, "streamName")
    assert missing not in AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).topics
    assert_event_error(events.get(f"/streams/{stream}/events", params={"consumerGroup": group(), "offset": 5}),
                       400, 1002, "offset")
    assert_event_error(events.post(f"/streams/{stream}/events", content=b'{"value": ',
                                   headers={"Content-Type": "application/json"}), 400, 1004, "body")
    assert_event_error(events.post(f"/streams/{stream}/events", json={"key": "k"}), 400, 1000, "value")
    assert_event_error(events.post(f"/streams/{stream}/events", content=b"value=1",
                                   headers={"Content-Type": "text/plain"}), 415, 1000, "body")
    assert_event_error(events.post(f"/consumers/{group()}/commit"), 404, 1003, "consumerGroup")
    assert_event_error(events.post(f"/consumers/{group()}/commit", json={"offsets": []}), 400, 1000, "offsets")


# Long enough that no member made by the test below expires before the last is made, however
# slow the machine: with the module's 3 s, a loaded CI host made the 33 members slower than they
# expired and never met the bound.
BOUND_TTL_SECONDS = 20.0


@pytest.fixture
def bounded_events(tmp_path, source: dict) -> Iterator[httpx.Client]:
    with (agent_hq(tmp_path, 1.0, 5.0, consumer_ttl_seconds=BOUND_TTL_SECONDS) as bounded,
          event_api(events_url(bounded, source)) as client):
        yield client


def test_members_past_the_bound_are_refused_until_one_expires(bounded_events, topic):
    events, stream = bounded_events, topic()

    def new_member() -> httpx.Response:
        return events.get(f"/streams/{stream}/events", params={"consumerGroup": group(), "timeout": 0})

    answers = [new_member() for _ in range(MAX_MEMBERS + 1)]
    assert [a.status_code for a in answers] == [200] * MAX_MEMBERS + [429]
    assert_event_error(answers[-1], 429, 1005)
    # the idle members close after their TTL, and the agent takes new ones again
    until(lambda: new_member().status_code == 200, 3 * BOUND_TTL_SECONDS, "an idle member to expire")


@pytest.fixture
def lasting_events(tmp_path, source: dict) -> Iterator[httpx.Client]:
    """An HQ whose members outlive a rebalance nobody calls during (the default TTL)."""
    with agent_hq(tmp_path, 1.0, 5.0) as lasting, event_api(events_url(lasting, source)) as client:
        yield client


def test_a_rebalance_hands_no_record_out_twice_and_needs_no_caller(lasting_events, topic, bootstrap):
    events = lasting_events
    stream, group_id, total = topic(2), group(), 1000
    events.post(f"/streams/{stream}/events/batch",
                json={"events": [{"key": f"k{i}", "value": i} for i in range(total)]}).raise_for_status()
    first = consume(events, stream, group_id, offset="earliest", limit=10, timeout=20_000)["events"]
    assert first and events.post(f"/consumers/{group_id}/commit").status_code == 200
    # the member has buffered more than it handed out; another consumer joins the group and gets
    # a partition while nobody calls the API: the member's own polling lets the rebalance finish
    other = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
    try:
        other.subscribe([stream])
        read_by_other: list[str] = []

        ends = {p: records_in(bootstrap, stream, partitions=p + 1) - records_in(bootstrap, stream, partitions=p)
                for p in (0, 1)}  # nothing is written to it any more

        def other_is_done() -> bool:
            for message in other.consume(500, 0.5):
                if message.error() is None:
                    read_by_other.append(f"{stream}:{message.partition()}:{message.offset()}")
            assignment = other.assignment()
            return bool(assignment) and all(other.position([tp])[0].offset == ends[tp.partition] for tp in assignment)

        until(other_is_done, 120, "the other consumer to get a partition and read it", every=0)
        (held,) = other.assignment()
        read_by_api = [e["eventId"] for e in first]
        until(lambda: read_by_api.extend(e["eventId"] for e in consume(events, stream, group_id, limit=500)["events"])
              or len(read_by_api) + len(read_by_other) >= total, 60, "the API to read the other partition")
    finally:
        other.close()
    every = read_by_api + read_by_other
    assert len(every) == len(set(every)) == total  # no loss, and no record handed out by both
    assert all(not e.startswith(f"{stream}:{held.partition}:") for e in read_by_api[len(first):])


def test_a_member_of_a_deleted_stream_closes_and_the_next_call_is_1001(events, kafka):
    stream = f"events-{uuid.uuid4().hex[:10]}"
    kafka.create_topics([NewTopic(stream, 1, 1)])[stream].result(30)
    until(lambda: kafka.list_topics(stream, timeout=30).topics[stream].error is None, 60, f"{stream} to exist")
    group_id = group()
    consume(events, stream, group_id, timeout=0)
    kafka.delete_topics([stream])[stream].result(30)
    until(lambda: events.get(f"/streams/{stream}/events",
                             params={"consumerGroup": group_id, "timeout": 0}).status_code == 404,
          60, "the member of the deleted stream to close")
    assert_event_error(events.get(f"/streams/{stream}/events", params={"consumerGroup": group_id}), 404, 1001,
                       "streamName")
