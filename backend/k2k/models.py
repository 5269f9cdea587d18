"""K2K app shapes (seed 000): the document users write (metadata + spec), the one HQ answers
(plus server-set metadata, status and metrics), offset edits, and the offsets view.

Field names are the seed's: camelCase in the app document, snake_case in metrics and offsets."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from backend.environments.resources import KAFKA_CONNECTION
from backend.lrn import NAMESPACE_LRN_PATTERN, resource_lrn_pattern
from backend.models import ResourceName, StrictModel

API_VERSION = "v1"
KIND = "K2KApp"
REGEX_PREFIX = "regex:"
_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")
# The bounds of what a client may send (the README's "Errors and limits" lists them).
MAX_TOPICS = 1000
MAX_CONFIG_OVERRIDES = 256
MAX_MAP_KEYS = 64  # labels, annotations
MAX_TEXT = 4096  # descriptions, label and annotation values

Text = Annotated[str, Field(max_length=MAX_TEXT)]
Name = Annotated[str, Field(max_length=253)]  # a Kubernetes name, a display name, an LRN part
Lrn = Annotated[str, Field(max_length=512)]
Labels = Annotated[dict[Annotated[str, Field(min_length=1, max_length=317)], Text], Field(max_length=MAX_MAP_KEYS)]


def _topic(value: str) -> str:
    if value.startswith(REGEX_PREFIX):
        pattern = value.removeprefix(REGEX_PREFIX)
        if not pattern:
            raise ValueError("a regex: topic needs a pattern, e.g. regex:orders-.*")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value
    if not _TOPIC_NAME.fullmatch(value) or value in (".", ".."):
        raise ValueError("a topic name is 1-249 of a-z A-Z 0-9 . _ - (or regex:<pattern>)")
    return value


# The pattern documents the rule for clients (and the fuzzer); `_topic` enforces it, with its own messages.
TopicSelector = Annotated[str, Field(max_length=len(REGEX_PREFIX) + 250,
                                     json_schema_extra={"pattern": r"^(regex:.+|[a-zA-Z0-9._-]{1,249})$"}),
                          AfterValidator(_topic)]


class AppState(StrEnum):
    """What an app is doing, in words a user understands (the README documents each)."""

    deploying = "deploying"  # workers are starting or picking up a new generation
    running = "running"  # every worker is up and copying
    paused = "paused"  # spec.paused: no worker runs; positions are kept on the target
    failed = "failed"  # a worker stopped on an error it cannot retry (statusMessage says which)
    deleting = "deleting"  # deleted; its workers are being stopped
    unknown = "unknown"  # no controller has looked at it yet


# spec


class CommonMetadata(StrictModel):
    labels: Labels = {}
    annotations: Labels = {}


class SecurityContext(StrictModel):
    runAsUser: StrictInt | None = Field(None, ge=0, le=2**31 - 1)
    runAsGroup: StrictInt | None = Field(None, ge=0, le=2**31 - 1)
    runAsNonRoot: StrictBool | None = None


class ImagePullSecret(StrictModel):
    name: Name


class ResourceAmounts(StrictModel):
    cpu: Annotated[str, Field(max_length=64)] | None = None
    memory: Annotated[str, Field(max_length=64)] | None = None


class Resources(StrictModel):
    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None


class KubernetesSpec(StrictModel):
    commonMetadata: CommonMetadata | None = None
    securityContext: SecurityContext | None = None
    imagePullSecrets: list[ImagePullSecret] = Field(default=[], max_length=MAX_MAP_KEYS)
    serviceAccount: Name | None = None
    image: Annotated[str, Field(max_length=1024)] | None = None
    resources: Resources | None = None


class ReplicatorSpec(StrictModel):
    schemaMapping: StrictBool = False
    exactlyOnce: StrictBool = False
    autoCreateTopics: StrictBool = False
    autoCreateControlTopics: StrictBool = False
    keepRecordCreationTimestamp: StrictBool = False


KafkaLRN = Annotated[Lrn, Field(json_schema_extra={"pattern": resource_lrn_pattern(KAFKA_CONNECTION.kind)})]


class K2KSpec(StrictModel):
    sourceKafkaLRN: KafkaLRN
    targetKafkaLRN: KafkaLRN
    topics: list[TopicSelector] = Field(min_length=1, max_length=MAX_TOPICS)
    deploymentNamespaceLRN: Annotated[Lrn, Field(json_schema_extra={"pattern": NAMESPACE_LRN_PATTERN})] | None = None
    kubernetes: KubernetesSpec | None = None
    replicator: ReplicatorSpec = ReplicatorSpec()
    paused: StrictBool = False
    configOverrides: dict[Annotated[str, Field(max_length=256)], Any] = Field(
        default={}, max_length=MAX_CONFIG_OVERRIDES,
        description="consumer.* / producer.* client properties passed to the workers' Kafka clients, and "
        "`workers`: how many worker processes run the app (default 1).",
    )


class MetadataInput(StrictModel):
    """What a user sets; server-set fields are accepted (a GET answer can be sent back) and ignored."""

    name: ResourceName | None = None
    displayName: Annotated[str, Field(max_length=256)] | None = None
    description: Text | None = None
    id: Name | None = None
    lrn: Lrn | None = None
    creationTimestamp: Name | None = None
    generation: StrictInt | None = None


class K2KAppInput(StrictModel):
    apiVersion: Name = API_VERSION
    kind: Name = KIND
    metadata: MetadataInput = MetadataInput()
    spec: K2KSpec
    # Accepted so that an app fetched, edited and sent back is not refused; never read.
    status: Any = None
    metrics: Any = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value != KIND:
            raise ValueError(f"must be {KIND!r}")
        return value


# status


class LastTermination(BaseModel):
    message: str
    time: str


class Pod(BaseModel):
    name: str
    namespace: str
    state: str
    reason: str | None = None
    lastTermination: LastTermination | None = None


class ManagedResource(BaseModel):
    name: str
    namespace: str
    kind: str
    status: str
    reason: str | None = None


class Deployment(BaseModel):
    inSync: bool = False
    managedResources: list[ManagedResource] = []
    pods: list[Pod] = []


class KafkaStatus(BaseModel):
    consumerGroup: str


class K2KStatus(BaseModel):
    updatedAt: str | None = None
    state: AppState = AppState.unknown
    statusLastTransitionAt: str | None = None
    statusMessage: str | None = None
    observedGeneration: int = 0
    deployment: Deployment = Deployment()
    kafka: KafkaStatus | None = None


# metrics


class Throughput(BaseModel):
    updated_at: str
    bytes_per_second: float
    records_per_second: float


class SourcePartition(BaseModel):
    partition: int
    log_end_offset: int


class DestinationPartition(BaseModel):
    partition: int
    log_end_offset: int
    lag: int


class SourceOffsets(BaseModel):
    updated_at: str
    partitions: list[SourcePartition]


class DestinationOffsets(BaseModel):
    updated_at: str
    partitions: list[DestinationPartition]


class SourceTopic(BaseModel):
    lrn: str
    name: str
    throughput: Throughput
    offsets: SourceOffsets


class DestinationTopic(BaseModel):
    lrn: str
    name: str
    throughput: Throughput
    offsets: DestinationOffsets


class K2KMetrics(BaseModel):
    state: str = "unknown"
    updated_at: str | None = None
    error_message: str | None = None
    source_topics: list[SourceTopic] = []
    destination_topics: list[DestinationTopic] = []
    errors: list[str] = []


class MetricsSummary(BaseModel):
    topics_count: int
    partitions_count: int
    total_bytes_per_second_read: float
    total_bytes_per_second_written: float
    total_records_per_second_read: float
    total_records_per_second_written: float
    total_lag: int = 0
    state: str
    updated_at: str | None = None
    error_message: str | None = None


# answers


class Metadata(BaseModel):
    name: str
    displayName: str | None = None
    description: str | None = None
    id: str
    lrn: str
    creationTimestamp: str
    generation: int


class K2KApp(BaseModel):
    # An answer, not a request: the console reads it and must not trip over a newer server's fields.
    model_config = ConfigDict(extra="ignore")

    apiVersion: str = API_VERSION
    kind: str = KIND
    metadata: Metadata
    spec: K2KSpec
    status: K2KStatus = K2KStatus()
    metrics: K2KMetrics | None = None
    metrics_summary: MetricsSummary | None = None


class K2KAppList(BaseModel):
    items: list[K2KApp]


# offsets


class PartitionOffset(StrictModel):
    partition: StrictInt = Field(ge=0, le=2**31 - 1)
    offset: StrictInt = Field(ge=0, le=2**63 - 1)


class OffsetsPatch(StrictModel):
    offsets: list[PartitionOffset] = Field(min_length=1, max_length=10_000)  # a topic's partitions, at most


class UpdatedPartition(BaseModel):
    topic_name: str
    partition: int
    offset: int


class OffsetsUpdated(BaseModel):
    application_name: str
    updated_partitions: list[UpdatedPartition]
    status: str = "updated"


class PartitionPosition(BaseModel):
    partition: int
    committed: int | None = Field(description="The app's stored position: the next source offset it copies.")
    earliest: int
    latest: int
    at: int | None = Field(default=None, description="With ?at=: the offset of the first record at or after it.")


class TopicOffsets(BaseModel):
    application_name: str
    topic_name: str
    partitions: list[PartitionPosition]
