"""Streams (Kafka topics) of the event API: create, describe, delete, the list with the same
figures, and a stream's offsets (for the offsets editors).

Every figure is read from the cluster when asked: `totalMessages` is the sum of the partitions'
end - start offsets (records the log holds now), `totalSize` the bytes on disk of one copy of
each partition (DescribeLogDirs, the largest replica). The list reads all topics in a fixed
number of admin calls however many there are (one Metadata, two ListOffsets, one DescribeLogDirs
per broker, and the groups' committed offsets for `consumerGroups`), so 5,000 topics answer as
one call does."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import ConfigResource, ConfigSource, NewTopic, ResourceType, TopicMetadata
from pydantic import JsonValue

from backend.clock import utc_now_iso
from backend.environments.models import KafkaConnectionSpec
from backend.replicator.offsets import TP
from backend.streams.admin import StreamsAdmin, streams_admin
from backend.streams.clients import KafkaClients
from backend.streams.errors import INVALID_REQUEST, STREAM_ALREADY_EXISTS, EventApiError, stream_not_found
from backend.streams.models import (
    PartitionDetail,
    PartitionOffsets,
    StreamCreate,
    StreamDeleted,
    StreamDescription,
    StreamList,
    StreamOffsets,
    StreamSummary,
)
from backend.streams.records import timestamp_ms

DEFAULT_TIMEOUT = 10.0
INTERNAL_PREFIX = "_"
# The seed's three config names, by their Kafka names, with the type their values read back as.
SEED_CONFIGS: dict[str, tuple[str, type]] = {
    "retention.ms": ("retentionMs", int),
    "compression.type": ("compressionType", str),
    "max.message.bytes": ("maxMessageBytes", int),
}
# What a create answers for a request the broker refuses, by the body field at fault.
REFUSED_FIELDS = {KafkaError.INVALID_REPLICATION_FACTOR: "replicationFactor",
                  KafkaError.INVALID_PARTITIONS: "partitions",
                  KafkaError.INVALID_REPLICA_ASSIGNMENT: "replicationFactor",
                  KafkaError.TOPIC_EXCEPTION: "name",  # a name that collides with another (`.` vs `_`)
                  KafkaError.POLICY_VIOLATION: "config"}
LEADERS_WAIT_SECONDS = 0.1


def is_internal(topic: str) -> bool:
    """Kafka's own topics (`__consumer_offsets`, `__transaction_state`) and the `_`-prefixed ones
    tools keep beside them by convention (K2K's control topics, Kafka Connect's `_connect-*`,
    Schema Registry's `_schemas`): a list of the users' streams is not a list of those."""
    return topic.startswith(INTERNAL_PREFIX)


def broker_name(node: int) -> str:
    return f"broker-{node}"


@dataclass(frozen=True)
class TopicReading:
    """Some topics' metadata, offsets and sizes, read together. A partition without a leader has
    no offsets to read: it counts no records."""

    topics: dict[str, TopicMetadata]
    earliest: dict[TP, int]
    latest: dict[TP, int]
    sizes: dict[str, int]

    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        tp = (topic, partition)
        return self.earliest.get(tp, 0), self.latest.get(tp, 0)

    def messages(self, topic: str) -> int:
        ranges = (self.offsets(topic, partition) for partition in self.topics[topic].partitions)
        return sum(max(0, end - start) for start, end in ranges)

    def replication(self, topic: str) -> int:
        return max((len(p.replicas) for p in self.topics[topic].partitions.values()), default=0)

    def summary(self, topic: str, consumer_groups: int) -> StreamSummary:
        return StreamSummary(name=topic, partitions=len(self.topics[topic].partitions),
                             replicationFactor=self.replication(topic), totalMessages=self.messages(topic),
                             totalSize=self.sizes.get(topic, 0), internal=is_internal(topic),
                             consumerGroups=consumer_groups)


def read_topics(admin: StreamsAdmin, topics: dict[str, TopicMetadata], *, sizes: bool = True) -> TopicReading:
    """The three reads at once (each waits on the brokers, not on this process): over thousands
    of partitions the list answers in the time of the slowest rather than of their sum. A topic
    deleted since its metadata was read is left without offsets rather than failing the rest."""
    partitions = {name: sorted(meta.partitions) for name, meta in topics.items()}
    led = [(name, p) for name, meta in topics.items() for p, part in meta.partitions.items() if part.leader >= 0]
    with ThreadPoolExecutor(3, thread_name_prefix="streams-read") as pool:
        earliest = pool.submit(admin.cluster.earliest, led, True)
        latest = pool.submit(admin.cluster.latest, led, True)
        on_disk = pool.submit(admin.topic_sizes, partitions if sizes else {})
        with admin.answering("ListOffsets"):
            return TopicReading(topics, earliest.result(), latest.result(), on_disk.result())


def existing_topics(admin: StreamsAdmin) -> dict[str, TopicMetadata]:
    """Every topic of the cluster (one being deleted, already unknown to its leader, is left out)."""
    return {name: meta for name, meta in admin.metadata().items()
            if meta.error is None or meta.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART}


def read_stream_summaries(clients: KafkaClients, spec: KafkaConnectionSpec, timeout: float) -> list[StreamSummary]:
    """Every stream of the environment's cluster (internal ones too), by name, with its figures;
    `messagesPerSecond` is left to the live watch, which has two readings."""
    admin = streams_admin(clients, spec, timeout)
    topics = existing_topics(admin)
    reading = read_topics(admin, topics)
    groups_on: dict[str, int] = {}
    for positions in admin.committed(admin.group_ids()).values():
        for topic in {topic for topic, _ in positions}:
            groups_on[topic] = groups_on.get(topic, 0) + 1
    return [reading.summary(name, groups_on.get(name, 0)) for name in sorted(topics)]


def page_of(summaries: list[StreamSummary], *, after: str | None, limit: int, internal: bool) -> StreamList:
    """A page of the list, by name: the streams after `after`; `total` counts every stream the
    list shows (internal ones only with `internal`)."""
    shown = [s for s in summaries if internal or not s.internal]
    rest = [s for s in shown if after is None or s.name > after]
    page = rest[:limit]
    return StreamList(data=page, total=len(shown), next=page[-1].name if len(rest) > limit else None)


def _topic(admin: StreamsAdmin, stream: str) -> TopicMetadata:
    meta = admin.metadata(stream).get(stream)
    if meta is None or (meta.error is not None and meta.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
        raise stream_not_found(stream)
    return meta


def describe_stream(clients: KafkaClients, spec: KafkaConnectionSpec, stream: str,
                    timeout: float = DEFAULT_TIMEOUT) -> StreamDescription:
    admin = streams_admin(clients, spec, timeout)
    return _describe(admin, _topic(admin, stream))


def _describe(admin: StreamsAdmin, meta: TopicMetadata) -> StreamDescription:
    name = meta.topic
    reading = read_topics(admin, {name: meta})
    details = []
    for number in sorted(meta.partitions):
        partition = meta.partitions[number]
        start, end = reading.offsets(name, number)
        details.append(PartitionDetail(
            partition=number, leader=broker_name(partition.leader) if partition.leader >= 0 else None,
            replicas=[broker_name(r) for r in partition.replicas],
            inSyncReplicas=[broker_name(r) for r in partition.isrs], startOffset=start, endOffset=end))
    return StreamDescription(name=name, partitions=len(details), replicationFactor=reading.replication(name),
                             totalMessages=reading.messages(name), totalSize=reading.sizes.get(name, 0),
                             config=_configs_set(admin, name), partitionDetails=details, internal=is_internal(name))


def _configs_set(admin: StreamsAdmin, topic: str) -> dict[str, JsonValue]:
    """The configs set on the topic itself (not inherited from the brokers' defaults); the seed's
    three by its names and types, the others by their Kafka names."""
    resource = ConfigResource(ResourceType.TOPIC, topic)
    with admin.answering("DescribeConfigs"):
        entries = admin.admin.describe_configs([resource], request_timeout=admin.timeout)[resource].result(
            admin.timeout)
    configs: dict[str, JsonValue] = {}
    for name, entry in sorted(entries.items()):
        if entry.source != ConfigSource.DYNAMIC_TOPIC_CONFIG.value or entry.value is None:
            continue
        seed_name, kind = SEED_CONFIGS.get(name, (name, str))
        configs[seed_name] = kind(entry.value)
    return configs


def create_stream(clients: KafkaClients, spec: KafkaConnectionSpec, body: StreamCreate,
                  timeout: float = DEFAULT_TIMEOUT) -> StreamDescription:
    """Creates the topic, then answers its description once every partition has a leader (a
    describe right after a create would otherwise find partitions with no offsets yet)."""
    admin = streams_admin(clients, spec, timeout)
    configs = body.config.kafka_configs() if body.config else {}
    topic = NewTopic(body.name, body.partitions, body.replicationFactor or -1, config=configs)
    with admin.answering("CreateTopics"):
        future = admin.admin.create_topics([topic], operation_timeout=timeout, request_timeout=timeout)[body.name]
        try:
            future.result(timeout)
        except KafkaException as exc:
            raise _refused(admin, exc, body.name, configs) from None
    deadline = time.monotonic() + timeout
    while True:
        meta = admin.metadata(body.name).get(body.name)
        led = meta is not None and meta.error is None and meta.partitions and all(
            p.leader >= 0 for p in meta.partitions.values())
        if led or time.monotonic() > deadline:
            return _describe(admin, _topic(admin, body.name))
        time.sleep(LEADERS_WAIT_SECONDS)


def _refused(admin: StreamsAdmin, exc: KafkaException, name: str, configs: dict[str, str]) -> EventApiError:
    error: KafkaError = exc.args[0]
    if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
        return EventApiError(STREAM_ALREADY_EXISTS, f"The stream {name!r} exists already.", field="name")
    if error.code() == KafkaError.INVALID_CONFIG:
        return EventApiError(INVALID_REQUEST, f"Kafka refused the config: {error.str()}",
                             field=config_field(error.str(), configs))
    if error.code() in REFUSED_FIELDS:
        return EventApiError(INVALID_REQUEST, f"Kafka refused the stream: {error.str()}",
                             field=REFUSED_FIELDS[error.code()])
    return admin.failure(exc, "CreateTopics")


def config_field(message: str, configs: dict[str, str]) -> str:
    """The body field of the config a broker's refusal names (`Invalid value x for configuration
    cleanup.policy: …`, `Unknown topic config name: foo`): `config.retentionMs` for the seed's
    names, `config.<kafka name>` for the others; `config` when it names none of them."""
    named = [name for name in configs if name in message]
    if not named:
        return "config"
    name = max(named, key=len)  # `retention.ms` inside a message about `retention.ms.x` is not the one
    return f"config.{SEED_CONFIGS.get(name, (name,))[0]}"


def delete_stream(clients: KafkaClients, spec: KafkaConnectionSpec, stream: str,
                  timeout: float = DEFAULT_TIMEOUT) -> StreamDeleted:
    if is_internal(stream):
        # Kafka's own topics (group offsets, transactions) and the tools' beside them: deleting
        # one loses every group's positions or an app's state, nothing an event API user means.
        raise EventApiError.bad("streamName", f"{stream!r} is an internal topic: it is not deleted through the "
                                              "event API")
    admin = streams_admin(clients, spec, timeout)
    with admin.answering("DeleteTopics"):
        future = admin.admin.delete_topics([stream], operation_timeout=timeout, request_timeout=timeout)[stream]
        try:
            future.result(timeout)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise stream_not_found(stream) from None
            raise
    return StreamDeleted(streamName=stream, deletedAt=utc_now_iso())


def stream_offsets(clients: KafkaClients, spec: KafkaConnectionSpec, stream: str, at: datetime | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> StreamOffsets:
    """Each partition's start and end offsets, and with `at` the first offset at or after that
    time (a time without a zone is UTC)."""
    admin = streams_admin(clients, spec, timeout)
    meta = _topic(admin, stream)
    tps = [(stream, p) for p in sorted(meta.partitions)]
    reading = read_topics(admin, {stream: meta}, sizes=False)
    found: dict[TP, int] = {}
    if at is not None:
        with admin.answering("ListOffsets"):
            found = admin.cluster.at([tp for tp in tps if tp in reading.latest], timestamp_ms(at))
    partitions = []
    for tp in tps:
        start, end = reading.offsets(*tp)
        partitions.append(PartitionOffsets(partition=tp[1], startOffset=start, endOffset=end,
                                           offsetAtTime=found.get(tp)))
    return StreamOffsets(stream=stream, partitions=partitions)
