"""The environments API's shapes (seed 001): the one definition, used by the server and
imported by the console."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from backend.models import ResourceName, StrictModel

SECRET_MASK = "***"


class Tier(StrEnum):
    development = "development"
    staging = "staging"
    production = "production"


# The bounds of what a client may send (the README's "Errors and limits" lists them).
MAX_METADATA_KEYS = 64
MAX_BROKER_ADDRESSES = 64  # a connection needs a handful of bootstrap addresses
MAX_URLS = 16
MAX_HOST = 253  # DNS
MAX_SECRET = 4096  # passwords and tokens
MAX_PEM = 64 * 1024  # a certificate chain

MetadataKey = Annotated[str, Field(min_length=1, max_length=253)]
MetadataValue = Annotated[str, Field(max_length=4096)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=MAX_METADATA_KEYS)]
DisplayName = Annotated[str, Field(min_length=1, max_length=256)]
Username = Annotated[str, Field(min_length=1, max_length=256)]
Secret = Annotated[str, Field(min_length=1, max_length=MAX_SECRET, description="Write-only: answers show \"***\".")]
Pem = Annotated[str, Field(max_length=MAX_PEM)]


# status: filled by the environment's agent; every part is absent until it reports.


class AgentCapabilities(BaseModel):
    metrics: bool = False
    k2k: bool = False


class AgentInfo(BaseModel):
    hostname: str
    version: str
    capabilities: AgentCapabilities = AgentCapabilities()


class KafkaMetrics(BaseModel):
    version: str | None = None
    num_brokers: int | None = None
    updated_at: datetime | None = None


class DataMetrics(BaseModel):
    num_topics: int | None = None
    num_partitions: int | None = None
    num_schemas: int | None = None
    num_policies: int | None = None
    topic_data_total_bytes: int | None = None
    data_in_bytes_per_sec: float | None = None
    data_out_bytes_per_sec: float | None = None
    data_in_messages_per_sec: float | None = None
    updated_at: datetime | None = None


class AppsMetrics(BaseModel):
    num_consumers: int | None = None
    num_other_apps: int | None = None
    updated_at: datetime | None = None


class ConnectMetrics(BaseModel):
    num_clusters: int | None = None
    num_connectors: int | None = None
    updated_at: datetime | None = None


class OtherMetrics(BaseModel):
    num_issues: int | None = None
    updated_at: datetime | None = None


class Metrics(BaseModel):
    kafka: KafkaMetrics = KafkaMetrics()
    data: DataMetrics = DataMetrics()
    apps: AppsMetrics = AppsMetrics()
    connect: ConnectMetrics = ConnectMetrics()
    other: OtherMetrics = OtherMetrics()


class AgentStatus(BaseModel):
    updated_at: datetime
    roundtrip_duration: float | None = None
    agent: AgentInfo | None = None
    metrics: Metrics = Metrics()
    issues: list[str] = Field(default=[], description="What the agent cannot reach or finds wrong, in words.")


class EnvironmentStatus(BaseModel):
    agent_connected: bool = False
    agent: AgentStatus | None = None


# environments


class EnvironmentCreate(StrictModel):
    name: ResourceName = Field(description="A valid HQ resource name (lowercase alphanumerics and hyphens, ≤ 63).")
    display_name: DisplayName | None = Field(None, description='Defaults to "name".')
    tier: Tier = Tier.development
    metadata: Metadata = {}


class EnvironmentPatch(StrictModel):
    """A merge patch: absent fields stay; a metadata key set to null is removed."""

    display_name: DisplayName | None = None
    tier: Tier | None = None
    metadata: Annotated[dict[MetadataKey, MetadataValue | None], Field(max_length=MAX_METADATA_KEYS)] | None = None


class Environment(BaseModel):
    name: str
    display_name: str
    lrn: str
    id: str
    created_at: datetime
    tier: Tier
    status: EnvironmentStatus = EnvironmentStatus()
    metadata: dict[str, str] = {}


class EnvironmentWithKey(Environment):
    """Answered on creation and key renewal only: the agent key is never shown again."""

    agent_key: str


class EnvironmentList(BaseModel):
    items: list[Environment]


# kafka connections


def _broker_address(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or re.search(r"\s", host):
        raise ValueError("must be host:port, e.g. broker-1.example.com:9092")
    return value


# Patterns document the rules for clients (and the fuzzer); the validators enforce them with their messages.
BrokerAddress = Annotated[str, Field(max_length=MAX_HOST + len(":65535"),
                                     json_schema_extra={"pattern": r"^\S+:[0-9]{1,5}$"}),
                          AfterValidator(_broker_address)]


class PlaintextAuth(StrictModel):
    pass


class SaslPlainAuth(StrictModel):
    username: Username
    password: Secret
    tls: StrictBool = False


class SaslScramAuth(StrictModel):
    mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]
    username: Username
    password: Secret
    tls: StrictBool = False


class TlsAuth(StrictModel):
    ca_pem: Pem | None = None
    cert_pem: Pem | None = None
    key_pem: Pem | None = Field(None, description="Write-only: answers show \"***\".")


class OneOfAuth(StrictModel):
    """An auth object with at most one key, naming its type; `{}` means the default type.
    Fields listed in SECRET_FIELDS are write-only: answers show the mask instead."""

    model_config = ConfigDict(json_schema_extra={"maxProperties": 1})

    DEFAULT_KIND: ClassVar[str]
    SECRET_FIELDS: ClassVar[tuple[str, ...]]

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # A type set to null would count as the type chosen, with no settings to use.
        if value is None:
            raise PydanticCustomError("null_not_allowed", "must be an object ({} for its defaults), not null")
        return value

    @model_validator(mode="after")
    def _one_type(self) -> OneOfAuth:
        if len(self.model_fields_set) > 1:
            raise ValueError(f"auth takes at most one type, got {sorted(self.model_fields_set)}")
        return self

    @property
    def kind(self) -> str:
        return next(iter(self.model_fields_set), self.DEFAULT_KIND)

    @property
    def settings(self) -> BaseModel | None:
        return getattr(self, self.kind) if self.model_fields_set else None

    @model_serializer(mode="wrap")
    def _only_the_type_set(self, handler):
        return {k: v for k, v in handler(self).items() if k in self.model_fields_set}

    def _with(self, values: dict[str, Any]) -> Self:
        return type(self).model_validate({self.kind: self.settings.model_copy(update=values).model_dump()})

    def secret_fields_set(self) -> list[str]:
        settings = self.settings
        return [f for f in self.SECRET_FIELDS if settings is not None and getattr(settings, f, None)]

    def masked(self) -> Self:
        """A copy with every write-only secret replaced by the mask."""
        secrets = self.secret_fields_set()
        return self._with(dict.fromkeys(secrets, SECRET_MASK)) if secrets else self

    def masked_fields(self) -> list[str]:
        """The secrets a client sent back as the mask: it means "unchanged"."""
        return [f for f in self.secret_fields_set() if getattr(self.settings, f) == SECRET_MASK]

    def keeping_secrets_of(self, previous: Self, fields: list[str]) -> Self:
        return self._with({f: getattr(previous.settings, f) for f in fields})


class KafkaAuth(OneOfAuth):
    DEFAULT_KIND = "plaintext"
    SECRET_FIELDS = ("password", "key_pem")

    plaintext: PlaintextAuth | None = None
    sasl_plain: SaslPlainAuth | None = None
    sasl_scram: SaslScramAuth | None = None
    tls: TlsAuth | None = None


class KafkaConnectionSpec(StrictModel):
    override_broker_addresses: list[BrokerAddress] = Field(
        default=[], max_length=MAX_BROKER_ADDRESSES,
        description="Overrides the broker addresses; if not set, those of the agent are used.",
    )
    auth: KafkaAuth = KafkaAuth()


class KafkaConnection(KafkaConnectionSpec):
    # An answer, not a request: fields a newer server adds are ignored, not refused.
    model_config = ConfigDict(extra="ignore")

    name: str


class KafkaConnectionList(BaseModel):
    items: list[KafkaConnection]


# HTTP services an agent reaches: Kafka Connect clusters and Redpanda Connect instances


class NoAuth(StrictModel):
    pass


class BasicAuth(StrictModel):
    username: Username
    password: Secret


class BearerAuth(StrictModel):
    token: Secret


class HttpAuth(OneOfAuth):
    DEFAULT_KIND = "none"
    SECRET_FIELDS = ("password", "token")

    none: NoAuth | None = None
    basic: BasicAuth | None = None
    bearer: BearerAuth | None = None


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("must be an http:// or https:// URL, e.g. http://connect-1:8083")
    return value.rstrip("/")


HttpUrl = Annotated[str, Field(max_length=2048, json_schema_extra={"pattern": r"^https?://[^\s/]+(/\S*)?$"}),
                    AfterValidator(_http_url)]


class ConnectClusterSpec(StrictModel):
    urls: list[HttpUrl] = Field(min_length=1, max_length=MAX_URLS,
                                description="The REST URLs of the cluster's workers.")
    auth: HttpAuth = HttpAuth()


class ConnectCluster(ConnectClusterSpec):
    model_config = ConfigDict(extra="ignore")

    name: str


class ConnectClusterList(BaseModel):
    items: list[ConnectCluster]


class RedpandaConnectSpec(StrictModel):
    url: HttpUrl = Field(description="The streams-mode API of the Redpanda Connect (Benthos) process.")
    auth: HttpAuth = HttpAuth()


class RedpandaConnect(RedpandaConnectSpec):
    model_config = ConfigDict(extra="ignore")

    name: str


class RedpandaConnectList(BaseModel):
    items: list[RedpandaConnect]
