"""The event API's shapes (seed 004: streams, events, consumers; and the additions beside it: the
stream list, consumer groups, the tail): the one definition, used by the agent's routes and
imported by the console.

Field names are the seed's (camelCase). Additions are marked in their descriptions. What a client
sends is bounded here, so a body that passes these models cannot make the agent hold more than a
body's worth. A batch's events are validated one by one by the service (one bad event fails alone,
the others are published), so `BatchPublish.events` takes any JSON objects and `PublishEvent`
validates each."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic_core import PydanticCustomError

# The bounds of what a client may send (the README's "Errors and limits" lists them).
MAX_STREAM_NAME = 249  # Kafka's own limit on a topic name
STREAM_PATTERN = r"^[a-zA-Z0-9._-]{1,249}$"
MAX_GROUP = 255
MAX_KEY = 64 * 1024
MAX_HEADERS = 64
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 16 * 1024
MAX_BATCH_EVENTS = 1000
MAX_PARTITIONS = 10_000
MAX_REPLICATION = 16
MAX_TOPIC_CONFIGS = 64
MAX_TOPIC_CONFIG_VALUE = 4096
MAX_CONSUME_LIMIT = 1000
DEFAULT_CONSUME_LIMIT = 100
MAX_TIMEOUT_MS = 30_000
DEFAULT_CONSUME_TIMEOUT_MS = 1000
DEFAULT_PUBLISH_TIMEOUT_MS = 5000
MAX_COMMIT_OFFSETS = 10_000
MAX_LIST_LIMIT = 10_000
DEFAULT_LIST_LIMIT = 5000
MAX_IDEMPOTENCY_KEY = 255
MAX_OFFSET = 2**63 - 1  # Kafka's offsets are int64: a larger one overflowed librdkafka's TopicPartition (a 500)
TOPIC_CONFIG_NAME = re.compile(r"[a-z][a-z0-9.]{0,254}")

StreamName = Annotated[str, Field(pattern=STREAM_PATTERN, description="A Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -")]
GroupName = Annotated[str, Field(min_length=1, max_length=MAX_GROUP, pattern=r"^[\x21-\x7e]+$",
                                 description="A consumer group id: 1-255 printable ASCII characters, no spaces")]
Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
Strict = ConfigDict(extra="forbid", strict=True)


class EventErrorBody(BaseModel):
    """Every error of the event API (seed 004's table, codes 1001-1006, and the additions in
    backend/streams/errors.py)."""

    code: int
    message: str
    description: str
    field: str | None = Field(None, description="Addition: the body field or parameter at fault.")


# Streams ------------------------------------------------------------------------------------

class StreamConfig(BaseModel):
    """A topic's configuration: the seed's three names, and any other topic config by its Kafka
    name (`cleanup.policy`, `min.insync.replicas`, …)."""

    model_config = ConfigDict(extra="allow", strict=True)

    retentionMs: int | None = Field(None, ge=-1, description="retention.ms (-1: keep for ever)")
    compressionType: Literal["uncompressed", "producer", "gzip", "snappy", "lz4", "zstd"] | None = Field(
        None, description="compression.type")
    maxMessageBytes: int | None = Field(None, ge=1, le=2**31 - 1, description="max.message.bytes")

    @model_validator(mode="after")
    def _kafka_names(self) -> StreamConfig:
        extra = self.model_extra or {}
        if len(extra) > MAX_TOPIC_CONFIGS:
            raise PydanticCustomError("too_many_configs", "at most {limit} topic configs", {"limit": MAX_TOPIC_CONFIGS})
        for name, value in extra.items():
            if not TOPIC_CONFIG_NAME.fullmatch(name):
                raise PydanticCustomError("unknown_config", "{name} is not a topic config name (e.g. cleanup.policy)",
                                          {"name": repr(name[:64])})
            if not isinstance(value, str | int | bool) or len(str(value)) > MAX_TOPIC_CONFIG_VALUE:
                raise PydanticCustomError("bad_config_value", "{name} takes a string, a number or a boolean of at "
                                          "most {limit} characters", {"name": name, "limit": MAX_TOPIC_CONFIG_VALUE})
        return self

    def kafka_configs(self) -> dict[str, str]:
        """The topic configs by their Kafka names."""
        configs = {name: str(value) for name, value in (self.model_extra or {}).items()}
        for field_name, kafka_name in (("retentionMs", "retention.ms"), ("compressionType", "compression.type"),
                                       ("maxMessageBytes", "max.message.bytes")):
            value = getattr(self, field_name)
            if value is not None:
                configs[kafka_name] = str(value)
        return configs


class StreamCreate(BaseModel):
    model_config = Strict

    name: StreamName
    partitions: int = Field(1, ge=1, le=MAX_PARTITIONS)
    replicationFactor: int | None = Field(None, ge=1, le=MAX_REPLICATION,
                                          description="Absent: the brokers' default.replication.factor")
    config: StreamConfig | None = None


class PartitionDetail(BaseModel):
    partition: int
    leader: str | None = Field(description="broker-<id>; null while the partition has no leader")
    replicas: list[str]
    inSyncReplicas: list[str] = Field(description="Addition: the replicas in sync with the leader.")
    startOffset: int
    endOffset: int


class StreamDescription(BaseModel):
    name: str
    partitions: int
    replicationFactor: int
    totalMessages: int = Field(description="Records the partitions hold now: sum of end - start offsets")
    totalSize: int = Field(description="Bytes on disk of one copy of each partition (the largest replica)")
    config: dict[str, JsonValue] = Field(
        description="retentionMs, compressionType, maxMessageBytes, and the other topic configs set on the "
                    "topic (not the brokers' defaults) by their Kafka names")
    partitionDetails: list[PartitionDetail]
    internal: bool = Field(False, description="Addition: an internal topic (`__consumer_offsets`, `__…`)")


class StreamSummary(BaseModel):
    """Addition: a stream as the list shows it, with the same figures as its description."""

    name: str
    partitions: int
    replicationFactor: int
    totalMessages: int
    totalSize: int
    internal: bool = False
    messagesPerSecond: float | None = Field(
        None, description="Records written per second over the agent's last two readings (null until two)")
    consumerGroups: int = Field(0, description="Consumer groups with a committed position on the stream")


class StreamList(BaseModel):
    """Addition: `GET /api/v1/streams`, by name, paged: `next` is the `after` of the next page."""

    data: list[StreamSummary]
    total: int
    next: str | None = None


class StreamDeleted(BaseModel):
    status: Literal["deleted"] = "deleted"
    streamName: str
    deletedAt: str


# Events -------------------------------------------------------------------------------------

class PublishEvent(BaseModel):
    model_config = Strict

    key: str | None = Field(None, max_length=MAX_KEY)
    # Any, not JsonValue: a body reaches this model through backend/bodies' strict JSON parser,
    # which admits only JSON; validating each value again cost a third of a batch publish.
    value: Any = Field(description="Any JSON value; written as its compact JSON encoding")
    headers: dict[Annotated[str, Field(min_length=1, max_length=MAX_HEADER_NAME)],
                  Annotated[str, Field(max_length=MAX_HEADER_VALUE)]] = Field(
        default_factory=dict, max_length=MAX_HEADERS)
    partitionKey: str | None = Field(None, max_length=MAX_KEY,
                                     description="Chooses the partition instead of the key when given")


class Published(BaseModel):
    eventId: str = Field(description="`<stream>:<partition>:<offset>`: the same id comes back when it is consumed")
    partition: int
    offset: int
    timestamp: str = Field(description="The broker's timestamp of the record (ISO 8601, UTC, ms)")
    status: Literal["published"] = "published"


class PublishOptions(BaseModel):
    model_config = Strict

    compression: Compression | None = None
    timeout: int = Field(DEFAULT_PUBLISH_TIMEOUT_MS, ge=1, le=MAX_TIMEOUT_MS,
                         description="Milliseconds to wait for the brokers' acknowledgement of every event")


class BatchPublish(BaseModel):
    model_config = Strict

    # Any, not an object: an entry that is not one fails alone, like any other bad event.
    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH_EVENTS,
                              description="Each a PublishEvent, validated on its own")
    options: PublishOptions = Field(default_factory=PublishOptions)


class BatchEventResult(BaseModel):
    index: int = Field(description="Addition: the event's position in the batch")
    status: Literal["published", "failed"]
    eventId: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: str | None = None
    error: EventErrorBody | None = Field(None, description="Addition: why this event failed")


class BatchPublished(BaseModel):
    batchId: str
    totalEvents: int
    successCount: int
    failureCount: int
    results: list[BatchEventResult]


class ConsumedEvent(BaseModel):
    eventId: str
    partition: int
    offset: int
    timestamp: str
    key: str | None
    value: JsonValue
    headers: dict[str, str] = Field(default_factory=dict)
    valueEncoding: Literal["json", "string", "base64"] = Field(
        "json", description="Addition: `json` (value is the decoded JSON), `string` (not JSON, UTF-8), "
                            "`base64` (not UTF-8)")
    keyEncoding: Literal["string", "base64"] = Field("string", description="Addition: `base64` when not UTF-8")


class ConsumeMetadata(BaseModel):
    consumerGroup: str
    lag: int = Field(description="Records after the member's position on its partitions, now")
    nextOffset: int | None = Field(description="The next offset of the last event's partition (null with no event)")
    nextOffsets: dict[str, int] = Field(default_factory=dict,
                                        description="Addition: the member's next offset per partition")
    expiresAt: str = Field(description="Addition: when the agent closes this member if nobody calls again")
    partitions: list[int] = Field(default_factory=list, description="Addition: the partitions the member holds")


class ConsumeAnswer(BaseModel):
    events: list[ConsumedEvent]
    metadata: ConsumeMetadata


class CommitOffset(BaseModel):
    model_config = Strict

    stream: StreamName
    partition: int = Field(ge=0, le=MAX_PARTITIONS)
    offset: int = Field(ge=0, le=MAX_OFFSET, description="The next offset to read (Kafka's committed position)")


class CommitRequest(BaseModel):
    model_config = Strict

    offsets: list[CommitOffset] | None = Field(
        None, max_length=MAX_COMMIT_OFFSETS,
        description="Absent: the positions of the agent's members of the group")


class Committed(BaseModel):
    status: Literal["committed"] = "committed"
    committedOffsets: list[CommitOffset]


# Consumer groups (addition) -----------------------------------------------------------------

class GroupSummary(BaseModel):
    groupId: str
    state: str = Field(description="Kafka's group state: Stable, Empty, PreparingRebalance, Dead, …")
    members: int
    streams: list[str] = Field(description="Streams the group has committed positions on")
    totalLag: int | None = Field(description="Sum of the partitions' lag; null when it is not this cluster's "
                                             "(a K2K app's position group holds source offsets)")
    k2kApp: str | None = Field(None, description="The K2K app whose position group this is")


class GroupPartition(BaseModel):
    stream: str
    partition: int
    committedOffset: int | None
    logEndOffset: int | None
    lag: int | None
    memberId: str | None = None
    clientId: str | None = None
    host: str | None = None


class StreamPartition(BaseModel):
    stream: str
    partition: int


class GroupMember(BaseModel):
    memberId: str
    clientId: str
    host: str
    assignments: list[StreamPartition] = Field(default_factory=list)


class GroupDetail(GroupSummary):
    partitions: list[GroupPartition]
    memberDetails: list[GroupMember]


class GroupList(BaseModel):
    data: list[GroupSummary]


class PartitionOffsets(BaseModel):
    partition: int
    startOffset: int
    endOffset: int
    offsetAtTime: int | None = Field(None, description="With `at`: the first offset at or after that time "
                                                        "(the end offset when none is)")


class StreamOffsets(BaseModel):
    """Addition: `GET /api/v1/streams/{streamName}/offsets[?at=ISO]`, what an offsets editor needs."""

    stream: str
    partitions: list[PartitionOffsets]


# The live feed (addition) -------------------------------------------------------------------

class LiveStream(StreamSummary):
    """A stream on the agent's live feed (`stream.created|updated|deleted`): its list item and its
    LRN (`kafka:topic/<environment>/<kafka connection>/<stream>`), which names its environment."""

    lrn: str


class LiveGroup(GroupSummary):
    """A consumer group on the agent's live feed (`consumer-group.created|updated|deleted`): its
    list item and its LRN (`kafka:consumer-group/<environment>/<kafka connection>/<group>`)."""

    lrn: str


# The tail (addition) ------------------------------------------------------------------------

class TailPosition(BaseModel):
    partition: int
    offset: int = Field(description="The first offset the tail reads on this partition")


class TailReady(BaseModel):
    """The tail's first event (`event: ready`): where it starts on each partition it reads."""

    stream: str
    partitions: list[TailPosition]


class TailRecords(BaseModel):
    """One `event: records` of a tail: the records of one poll, in partition order."""

    events: list[ConsumedEvent]
