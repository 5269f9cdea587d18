"""The event API's streams and consumer groups (seed 004 and the list, offsets and group routes
beside it) through HQ's proxy, against the sandbox's real Kafka: every answer is checked
against what Kafka itself says."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType
from kafka import KafkaAdminClient

from backend.replicator.config import consumer_group
from backend.streams.clients import KafkaClients
from backend.streams.errors import EventApiError
from backend.streams.groups import commit_inactive
from backend.streams.models import CommitOffset
from tests.api.hq import ADMIN_TOKEN, RunningHQ, agent_hq
from tests.kafka.conftest import plaintext, source_environment
from tests.waiting import until

pytestmark = pytest.mark.kafka

EVENT_ERROR_KEYS = {"code", "message", "description"}
MANY_TOPICS = 5000
CREATE_BATCH = 500


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    with agent_hq(tmp_path_factory.mktemp("hq-events-streams"), 1.0, 10.0) as running:
        yield running


@pytest.fixture(scope="module")
def bootstrap(source: dict) -> str:
    return source["bootstrap"]


@pytest.fixture(scope="module")
def environment(hq: RunningHQ, source: dict) -> str:
    with hq.client() as api:
        return source_environment(api, f"events-{uuid.uuid4().hex[:8]}", source)


@pytest.fixture
def events(hq: RunningHQ, environment: str) -> Iterator[httpx.Client]:
    """The environment's event API through HQ's proxy."""
    with httpx.Client(base_url=f"{hq.url}/api/v1/environments/{environment}/proxy/api/v1",
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def kafka(bootstrap: str) -> AdminClient:
    """The sandbox's Kafka itself, to check what the API did."""
    return AdminClient({"bootstrap.servers": bootstrap})


@pytest.fixture
def stream_name(unique_name: Callable[[], str]) -> Callable[[], str]:
    return lambda: f"{unique_name()}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def created(events: httpx.Client, stream_name: Callable[[], str], kafka: AdminClient) -> Iterator[Callable[..., str]]:
    """Creates streams through the API; deletes what is left of them from Kafka after the test."""
    names: list[str] = []

    def create(partitions: int = 1, name: str | None = None, **body: object) -> str:
        name = name or stream_name()
        answer = events.post("/streams", json={"name": name, "partitions": partitions, **body})
        assert answer.status_code == 201, answer.text
        names.append(name)
        return name

    yield create
    existing = kafka.list_topics(timeout=30).topics
    if doomed := [n for n in names if n in existing]:
        for future in kafka.delete_topics(doomed).values():
            future.result(30)


def assert_event_error(answer: httpx.Response, status: int, code: int, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) >= EVENT_ERROR_KEYS, body
    assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field, body
    return body


def produce(bootstrap: str, stream: str, count: int, partitions: int, timestamp_ms: int | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    failures = []
    for i in range(count):
        producer.produce(stream, value=f'{{"n": {i}}}'.encode(), key=f"k{i}".encode(), partition=i % partitions,
                         timestamp=timestamp_ms or 0, on_delivery=lambda error, _: error and failures.append(error))
    assert producer.flush(30) == 0
    assert not failures


def watermarks(bootstrap: str, stream: str, partitions: int) -> list[tuple[int, int]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "streamhq-test-watermarks"})
    try:
        return [consumer.get_watermark_offsets(TopicPartition(stream, p), timeout=30) for p in range(partitions)]
    finally:
        consumer.close()


def log_dir_bytes(bootstrap: str, stream: str) -> int:
    """The stream's bytes on disk, as the broker's DescribeLogDirs says (the sandbox has one
    broker: one replica per partition)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return sum(partition["partition_size"] for broker in admin.describe_log_dirs([stream])
                   for log_dir in broker["log_dirs"] for topic in log_dir["topics"] if topic["name"] == stream
                   for partition in topic["partitions"])
    finally:
        admin.close()


def committed_offsets(bootstrap: str, group: str, stream: str, partitions: int) -> dict[int, int]:
    """The group's committed offsets as a consumer of the group reads them (without joining it)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        answer = consumer.committed([TopicPartition(stream, p) for p in range(partitions)], timeout=30)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in answer if tp.offset >= 0}


def test_create_describe_delete_with_configs_read_back_from_kafka(events: httpx.Client, created, kafka: AdminClient
                                                                  ) -> None:
    name = created(3, config={"retentionMs": 3_600_000, "compressionType": "lz4", "maxMessageBytes": 2_000_000,
                              "cleanup.policy": "compact"})
    resource = ConfigResource(ResourceType.TOPIC, name)
    configs = kafka.describe_configs([resource])[resource].result(30)
    assert {k: configs[k].value for k in ("retention.ms", "compression.type", "max.message.bytes", "cleanup.policy")
            } == {"retention.ms": "3600000", "compression.type": "lz4", "max.message.bytes": "2000000",
                  "cleanup.policy": "compact"}

    described = events.get(f"/streams/{name}").json()
    metadata = kafka.list_topics(name, timeout=30).topics[name]
    assert described["name"] == name and described["partitions"] == 3 and described["replicationFactor"] == 1
    assert described["config"] == {"retentionMs": 3_600_000, "compressionType": "lz4", "maxMessageBytes": 2_000_000,
                                   "cleanup.policy": "compact"}
    kafkas = [(number, f"broker-{p.leader}", [f"broker-{r}" for r in p.replicas], [f"broker-{r}" for r in p.isrs])
              for number, p in sorted(metadata.partitions.items())]
    assert [(p["partition"], p["leader"], p["replicas"], p["inSyncReplicas"]) for p in described["partitionDetails"]
            ] == kafkas
    assert described["totalMessages"] == 0 and described["internal"] is False

    deleted = events.delete(f"/streams/{name}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["status"] == "deleted" and deleted.json()["streamName"] == name
    assert abs((datetime.now(UTC) - datetime.fromisoformat(deleted.json()["deletedAt"])).total_seconds()) < 600
    until(lambda: name not in kafka.list_topics(timeout=30).topics, 30, f"Kafka deleting {name}")
    assert_event_error(events.get(f"/streams/{name}"), 404, 1001, "streamName")
    assert_event_error(events.delete(f"/streams/{name}"), 404, 1001, "streamName")


def test_figures_of_describe_and_list_are_kafkas(events: httpx.Client, created, bootstrap: str) -> None:
    name = created(3)
    produce(bootstrap, name, 60, 3)
    group = f"figures-{uuid.uuid4().hex[:6]}"
    commit_offsets_directly(bootstrap, group, name, {0: 5})

    described = events.get(f"/streams/{name}").json()
    marks = watermarks(bootstrap, name, 3)
    assert [(p["startOffset"], p["endOffset"]) for p in described["partitionDetails"]] == marks
    assert described["totalMessages"] == sum(high - low for low, high in marks) == 60
    size = log_dir_bytes(bootstrap, name)
    assert described["totalSize"] == size > 0

    listed = events.get("/streams", params={"limit": 10_000}).json()
    mine = next(s for s in listed["data"] if s["name"] == name)
    assert mine == {"name": name, "partitions": 3, "replicationFactor": 1, "totalMessages": 60, "totalSize": size,
                    "internal": False, "messagesPerSecond": None, "consumerGroups": 1}

    offsets = events.get(f"/streams/{name}/offsets").json()
    assert offsets == {"stream": name, "partitions": [
        {"partition": p, "startOffset": low, "endOffset": high, "offsetAtTime": None}
        for p, (low, high) in enumerate(marks)]}


def commit_offsets_directly(bootstrap: str, group: str, stream: str, offsets: dict[int, int]) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(stream, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


def test_offsets_at_a_time(events: httpx.Client, created, bootstrap: str) -> None:
    name = created(1)
    hour_ms = 3_600_000
    now_ms = int(time.time() * 1000)
    produce(bootstrap, name, 3, 1, timestamp_ms=now_ms - 3 * hour_ms)  # the brokers refuse times in the future
    produce(bootstrap, name, 2, 1, timestamp_ms=now_ms - hour_ms)
    between = datetime.fromtimestamp((now_ms - 2 * hour_ms) / 1000, UTC).isoformat()
    assert events.get(f"/streams/{name}/offsets", params={"at": between}).json()["partitions"] == [
        {"partition": 0, "startOffset": 0, "endOffset": 5, "offsetAtTime": 3}]
    later = events.get(f"/streams/{name}/offsets", params={"at": "2040-01-01T00:00:00"}).json()
    assert later["partitions"][0]["offsetAtTime"] == 5  # none is at or after it: the end
    for before_1970 in ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.998Z", "0001-01-01T00:00:00"):
        # every record is after it (Kafka read -1 ms as latest, -2 ms as earliest, others as a 502)
        early = events.get(f"/streams/{name}/offsets", params={"at": before_1970})
        assert early.status_code == 200, early.text
        assert early.json()["partitions"][0]["offsetAtTime"] == 0, before_1970
    assert_event_error(events.get(f"/streams/{name}/offsets", params={"at": "yesterday"}), 400, 1000, "at")


def test_paging_by_name(events: httpx.Client, created) -> None:
    prefix = f"paging-{uuid.uuid4().hex[:8]}"  # nothing else sorts between it and the names under it
    names = [created(1, name=f"{prefix}-{i}") for i in range(3)]
    first = events.get("/streams", params={"after": prefix, "limit": 2}).json()
    assert [s["name"] for s in first["data"]] == names[:2]
    assert first["next"] == names[1]
    second = events.get("/streams", params={"after": first["next"], "limit": 1}).json()
    assert [s["name"] for s in second["data"]] == names[2:3]
    everything = events.get("/streams", params={"limit": 10_000}).json()
    assert everything["next"] is None and everything["total"] == len(everything["data"])
    assert [s["name"] for s in everything["data"]] == sorted(s["name"] for s in everything["data"])
    assert_event_error(events.get("/streams", params={"limit": 0}), 400, 1000, "limit")


def test_internal_topics_only_on_request(events: httpx.Client) -> None:
    default = events.get("/streams", params={"limit": 10_000}).json()
    assert all(not s["internal"] and not s["name"].startswith("_") for s in default["data"])
    shown = events.get("/streams", params={"limit": 10_000, "internal": "true"}).json()
    offsets_topic = next(s for s in shown["data"] if s["name"] == "__consumer_offsets")
    assert offsets_topic["internal"] is True
    assert shown["total"] > default["total"]


def test_refusals_in_the_family_shape(events: httpx.Client, created, stream_name: Callable[[], str]) -> None:
    name = created(1)
    assert_event_error(events.post("/streams", json={"name": name}), 409, 1007, "name")
    assert_event_error(events.post("/streams", json={"name": stream_name(), "config": {"cleanup.policy": "bogus"}}),
                       400, 1000, "config.cleanup.policy")
    assert_event_error(events.post("/streams", json={"name": stream_name(), "config": {"segment.bytes": 1}}),
                       400, 1000, "config.segment.bytes")
    assert_event_error(events.post("/streams", json={"name": stream_name(), "replicationFactor": 5}),
                       400, 1000, "replicationFactor")
    assert_event_error(events.post("/streams", json={"name": stream_name(), "partitions": 0}), 400, 1000, "partitions")
    assert_event_error(events.post("/streams", json={"name": "no spaces"}), 400, 1000, "name")
    assert_event_error(events.post("/streams", content=b"name=x", headers={"Content-Type": "text/plain"}), 415, 1000)
    assert_event_error(events.get(f"/consumers/nobody-{uuid.uuid4().hex}"), 404, 1003, "consumerGroup")
    assert_event_error(events.get("/no-such-route"), 404, 1010)
    assert_event_error(events.put("/streams"), 405, 1010)


def test_commit_inactive_then_read_back_and_lag(events: httpx.Client, created, bootstrap: str) -> None:
    name = created(2)
    produce(bootstrap, name, 20, 2)  # 10 per partition
    group = f"rewound-{uuid.uuid4().hex[:6]}"
    clients = KafkaClients()
    spec = plaintext({"bootstrap": bootstrap})
    try:
        answer = commit_inactive(clients, spec, group, [CommitOffset(stream=name, partition=0, offset=3),
                                                        CommitOffset(stream=name, partition=1, offset=10)])
        assert answer.status == "committed"
        assert committed_offsets(bootstrap, group, name, 2) == {0: 3, 1: 10}

        with pytest.raises(EventApiError) as missing:
            commit_inactive(clients, spec, group, [CommitOffset(stream=f"{name}-gone", partition=0, offset=0)])
        assert (missing.value.code, missing.value.field) == (1001, "offsets.0.stream")
        with pytest.raises(EventApiError) as beyond:
            commit_inactive(clients, spec, group, [CommitOffset(stream=name, partition=1, offset=11)])
        assert (beyond.value.code, beyond.value.field) == (1002, "offsets.0.offset")
    finally:
        clients.close()

    detail = events.get(f"/consumers/{group}").json()
    assert detail["state"] == "Empty" and detail["members"] == 0 and detail["k2kApp"] is None
    assert [(p["stream"], p["partition"], p["committedOffset"], p["logEndOffset"], p["lag"])
            for p in detail["partitions"]] == [(name, 0, 3, 10, 7), (name, 1, 10, 10, 0)]
    assert detail["totalLag"] == 7 and detail["streams"] == [name]
    listed = next(g for g in events.get("/consumers").json()["data"] if g["groupId"] == group)
    assert listed == {"groupId": group, "state": "Empty", "members": 0, "streams": [name], "totalLag": 7,
                      "k2kApp": None}


def test_a_group_with_a_live_member_is_refused(events: httpx.Client, created, bootstrap: str) -> None:
    name = created(1)
    produce(bootstrap, name, 5, 1)
    group = f"live-{uuid.uuid4().hex[:6]}"
    member = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": "live-member",
                       "auto.offset.reset": "earliest", "enable.auto.commit": False})
    member.subscribe([name])
    clients = KafkaClients()
    try:
        until(lambda: (member.poll(0.5), member.assignment())[1], 60, "the member's assignment", every=0)
        with pytest.raises(EventApiError) as refused:
            commit_inactive(clients, plaintext({"bootstrap": bootstrap}), group,
                            [CommitOffset(stream=name, partition=0, offset=0)])
        assert refused.value.code == 1008 and refused.value.status == 409
        assert "the group has 1 member: stop them first" in refused.value.description.lower()

        detail = events.get(f"/consumers/{group}").json()
        assert detail["state"] == "Stable" and detail["members"] == 1
        assert detail["memberDetails"][0]["clientId"] == "live-member"
        assert detail["memberDetails"][0]["assignments"] == [{"stream": name, "partition": 0}]
        assert detail["partitions"][0]["clientId"] == "live-member"
        assert detail["partitions"][0]["logEndOffset"] == 5
    finally:
        member.close()
        clients.close()


def test_a_k2k_position_group_is_the_apps_with_no_lag_here(events: httpx.Client, created, bootstrap: str) -> None:
    name = created(1)
    app = f"copy-{uuid.uuid4().hex[:6]}"
    # A K2K app commits its SOURCE offsets under the target's topic name: far beyond this log.
    commit_offsets_directly(bootstrap, consumer_group(app), name, {0: 1_000_000})
    listed = next(g for g in events.get("/consumers").json()["data"] if g["groupId"] == consumer_group(app))
    assert listed["k2kApp"] == app and listed["totalLag"] is None and listed["streams"] == [name]
    detail = events.get(f"/consumers/{consumer_group(app)}").json()
    assert detail["k2kApp"] == app and detail["totalLag"] is None
    assert [(p["committedOffset"], p["logEndOffset"], p["lag"]) for p in detail["partitions"]] == [
        (1_000_000, None, None)]


def test_five_thousand_topics_list_in_one_call(events: httpx.Client, kafka: AdminClient) -> None:
    prefix = f"many-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i:04d}" for i in range(MANY_TOPICS)]
    try:
        for start in range(0, MANY_TOPICS, CREATE_BATCH):
            futures = kafka.create_topics([NewTopic(n, 1, 1) for n in names[start:start + CREATE_BATCH]],
                                          operation_timeout=120, request_timeout=120)
            for future in futures.values():
                future.result(180)
        until(lambda: set(names) <= set(kafka.list_topics(timeout=60).topics), 180, "Kafka listing every topic")
        for call in ("first", "second"):  # the first after the creates finds the brokers' caches cold
            started = time.monotonic()
            answer = events.get("/streams", params={"limit": MANY_TOPICS})
            seconds = time.monotonic() - started
            assert answer.status_code == 200, answer.text
            print(f"\n{call} GET /streams?limit={MANY_TOPICS} over {answer.json()['total']} streams: {seconds:.2f} s")
        listed = events.get("/streams", params={"limit": MANY_TOPICS, "after": prefix}).json()["data"]
        assert [s["name"] for s in listed] == names
        assert all(s["partitions"] == 1 and s["totalMessages"] == 0 and s["totalSize"] == 0 for s in listed)
    finally:
        existing = set(kafka.list_topics(timeout=60).topics)
        doomed = [n for n in names if n in existing]
        for start in range(0, len(doomed), CREATE_BATCH):
            for future in kafka.delete_topics(doomed[start:start + CREATE_BATCH], operation_timeout=120).values():
                future.result(180)
