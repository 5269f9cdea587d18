"""The Kafka Connect API's shapes (seed 002, and the kcctl-style additions beside it): the one
definition, used by the agent's routes and imported by the console.

Field names are the seed's (camelCase, `class`, `__errors`); additions are marked in their
descriptions. What a client sends is bounded here (names, keys, values, list sizes), so a body
that passes these models cannot make the agent hold more than a body's worth."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel
from pydantic_core import PydanticCustomError

# The bounds of what a client may send (the README's "Errors and limits" lists them).
MAX_NAME = 255  # connector and cluster names; Connect itself takes any string
MAX_CONFIG_KEYS = 1000
MAX_CONFIG_KEY = 255
MAX_CONFIG_VALUE = 64 * 1024  # a JAAS config, a schema, a long SMT chain
MAX_OFFSET_ENTRIES = 10_000
MAX_FILTERS = 64  # repeated `cluster` / `className` query values
MAX_LOGGER = 255

# The dot segments a client normalises away before the worker sees them (`/connectors/..` is its
# root): a connector so named could be created but never read, changed or deleted again.
DOT_SEGMENTS = (".", "..")


def addressable(name: str) -> str:
    """A connector name the worker's REST API can name in a path once it exists: Connect takes
    `/` in a name, but its server refuses an encoded `/` in a path (Jetty's "ambiguous path
    separator"), so such a connector could not be read, changed or deleted through it."""
    # A custom error, not a ValueError: its message reaches the editor without "Value error, ".
    if "/" in name:
        raise PydanticCustomError("unaddressable_name",
                                  "must not contain '/': the worker could create it but never address it again")
    if name in DOT_SEGMENTS:
        raise PydanticCustomError("unaddressable_name", "{name} cannot be a connector name: it is a path's dot segment",
                                  {"name": repr(name)})
    return name


ConnectorName = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(addressable)]
ClusterName = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
ConfigKey = Annotated[str, Field(min_length=1, max_length=MAX_CONFIG_KEY)]
ConfigValue = Annotated[str, Field(max_length=MAX_CONFIG_VALUE)]
Configuration = Annotated[dict[ConfigKey, ConfigValue], Field(max_length=MAX_CONFIG_KEYS)]


class _Shape(BaseModel):
    """An answer or a body of this family: unknown fields in a body are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConnectStatus(StrEnum):
    RUNNING = "RUNNING"
    UNASSIGNED = "UNASSIGNED"
    PAUSED = "PAUSED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"
    STOPPED = "STOPPED"


class ConnectorStateAction(StrEnum):
    start = "start"
    stop = "stop"
    restart = "restart"
    pause = "pause"
    resume = "resume"


InitialState = Literal["RUNNING", "PAUSED", "STOPPED"]


# errors


class FieldError(_Shape):
    field: str
    error: str
    lineNumber: int | None = None
    columnNumber: int | None = None


class ConnectErrorBody(_Shape):
    """Every error of this family (seed 002's BadRequest/NotFound/... share it)."""

    error: str
    fields: list[FieldError] = Field(default_factory=list)
    errorType: str | None = None


# list


class SimpleTask(_Shape):
    id: int
    state: ConnectStatus


class ClusterWarning(_Shape):
    """A cluster whose connectors the answer leaves out (addition to the seed)."""

    cluster: str
    error: str


class ConnectorListItem(_Shape):
    name: str
    lrn: str
    cluster: str
    state: ConnectStatus | None = None
    tasks: list[SimpleTask] = Field(default_factory=list)
    className: str | None = None
    type: str | None = None
    author: str | None = None
    icon: str | None = None
    topics: list[str] = Field(default_factory=list, description=(
        "Addition to the seed: the topics the configuration names (`topic`, `topics`, `topics.regex`), "
        "read from the same listing; the connector's active topics are its `/topics`."))
    workerId: str | None = Field(None, description="Addition to the seed: the worker running the connector.")


class ConnectorList(_Shape):
    data: list[ConnectorListItem]
    warnings: list[ClusterWarning] = Field(default_factory=list, description=(
        "Addition to the seed: each cluster that did not answer, whose connectors are left out."))


# one connector


class NewConnector(_Shape):
    name: ConnectorName
    cluster: ClusterName
    configuration: Configuration
    initialState: InitialState | None = Field(None, description=(
        "Addition to the seed (KIP-980): the state the connector is created in; STOPPED lets its "
        "offsets be set before it first runs."))


class TaskDetails(_Shape):
    id: str
    state: str
    workerId: str
    trace: str | None = None


class RedactedError(_Shape):
    field: str
    reason: str


class ConnectorDetails(_Shape):
    name: str
    lrn: str
    state: ConnectStatus | None = None
    type: str | None = None
    className: str | None = None
    workerId: str | None = None
    version: str | None = None
    author: str | None = None
    icon: str | None = None
    cluster: str
    config: dict[str, str] = Field(default_factory=dict)
    tasks: list[TaskDetails] = Field(default_factory=list)
    code: str | None = None
    errors: list[RedactedError] = Field(default_factory=list, alias="__errors")
    trace: str | None = Field(None, description="Addition to the seed: the connector's own trace when it FAILED.")
    topics: list[str] = Field(default_factory=list, description="Addition to the seed: as in the list.")


class ConnectorStatusAnswer(_Shape):
    """`GET …/connectors/{connector}/status` (addition to the seed): state only, no config."""

    name: str
    lrn: str
    cluster: str
    state: ConnectStatus | None = None
    type: str | None = None
    workerId: str | None = None
    trace: str | None = None
    tasks: list[TaskDetails] = Field(default_factory=list)


class ActionResult(_Shape):
    """The answer to a state change or a restart."""

    message: str
    inProgress: bool = Field(False, description=(
        "Addition to the seed: the worker accepted a restart and is still carrying it out (its 202)."))


class ConnectorConfig(RootModel[Configuration]):
    """The body of `PUT …/connectors/{connector}/config` (addition to the seed): the
    configuration alone, as Connect's own PUT takes it."""


class ConfigUpsertResult(_Shape):
    """`PUT …/connectors/{connector}/config` (addition to the seed)."""

    created: bool
    connector: ConnectorDetails


# plugins, validation


class PluginItem(_Shape):
    class_: str = Field(alias="class")
    cluster: str
    name: str | None = None
    type: str
    version: str
    author: str | None = None
    icon: str | None = None
    description: str | None = None
    docs: str | None = None


class PluginList(_Shape):
    data: list[PluginItem]
    warnings: list[ClusterWarning] = Field(default_factory=list, description="Addition to the seed: as in the list.")


class PluginConfigField(_Shape):
    """One key a plugin defines (`GET …/connector-plugins/{class}/config`, addition to the seed)."""

    name: str
    type: str
    required: bool
    defaultValue: str | None = None
    importance: str | None = None
    documentation: str | None = None
    group: str | None = None
    displayName: str | None = None
    order: int | None = None


class ValidateConnector(_Shape):
    name: ConnectorName
    cluster: ClusterName
    configuration: Configuration


class ValidationField(_Shape):
    name: str
    required: bool
    order: int
    documentation: str
    errors: list[str] = Field(default_factory=list)
    visible: bool
    value: str | None = None
    defaultValue: str | None = None


class ValidationResponse(_Shape):
    class_: str = Field(alias="class")
    configuration: list[ValidationField] = Field(default_factory=list)
    errorCount: int = Field(0, description="Addition to the seed: how many keys have errors.")


# cluster


class ConnectInfo(_Shape):
    name: str
    version: str
    commit: str | None = Field(None, description="Addition to the seed: the worker's build commit.")
    kafkaClusterId: str | None = Field(None, description="Addition to the seed: the Kafka cluster it runs on.")


class LoggerLevel(_Shape):
    """One logger of a worker (KIP-495, addition to the seed)."""

    name: str
    level: str
    lastModified: int | None = None


class LoggerLevelChange(_Shape):
    level: Literal["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"]


# offsets (KIP-875)


class OffsetEntry(_Shape):
    """A source connector's partition/offset are its own JSON; a sink's are
    `{"kafka_topic", "kafka_partition"}` / `{"kafka_offset"}`."""

    partition: Any
    offset: Any = None


class OffsetsAnswer(_Shape):
    offsets: list[OffsetEntry] = Field(default_factory=list)


class OffsetsChange(_Shape):
    offsets: list[OffsetEntry] = Field(default_factory=list, max_length=MAX_OFFSET_ENTRIES)


class OffsetsChanged(_Shape):
    message: str
