"""TopicForm: a new topic on an environment's Kafka: name, partitions, replication, retention,
compression. What the agent refuses (a name taken, more replicas than brokers, a config the
brokers will not take) comes back at the field it names."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.widgets import Input, Select

from backend.streams.models import (
    MAX_PARTITIONS,
    MAX_REPLICATION,
    STREAM_PATTERN,
    StreamConfig,
    StreamCreate,
    StreamDescription,
)
from console.screens.form import FormDialog

DEFAULT_PARTITIONS = 3
# compression.type: "producer" keeps what each producer compressed with (Kafka's default).
COMPRESSIONS = ("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+)\s*(ms|s|m|h|d|w)?")
FOREVER = ("-1", "forever", "infinite")
# The server's names for what this form asks (its body's fields) -> the form's fields.
SERVER_FIELDS = {"streamName": "name", "config.retentionMs": "retention", "config.compressionType": "compression",
                 "replicationFactor": "replication"}


def retention_ms(text: str) -> int | None:
    """`7d`, `12h`, `30m`, `90s`, `500ms`, a number of milliseconds, or `forever` (-1);
    blank: the brokers' default (None). Raises ValueError saying what is accepted."""
    text = text.strip().lower()
    if not text:
        return None
    if text in FOREVER:
        return -1
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError("A duration such as 7d, 12h, 30m or 500ms, a number of milliseconds, or forever.")
    return int(match.group(1)) * _UNITS_MS[match.group(2) or "ms"]


def _whole(text: str, field: str, low: int, high: int) -> dict[str, str]:
    """An error for `field` unless `text` is a whole number in [low, high]."""
    if not text.isdigit() or not low <= int(text) <= high:
        return {field: f"A whole number from {low} to {high:,}."}
    return {}


class TopicForm(FormDialog[StreamDescription | None]):
    def __init__(self, environment: str) -> None:
        super().__init__()
        self.environment = environment
        self.TITLE_TEXT = f"New topic on {environment}"

    def compose_fields(self) -> ComposeResult:
        yield from self.field("name", "Name", Input(placeholder="e.g. orders.v1", id="name"))
        yield from self.field("partitions", "Partitions", Input(str(DEFAULT_PARTITIONS), id="partitions"))
        yield from self.field("replication", "Replication factor (blank: the brokers' default)",
                              Input(placeholder="default.replication.factor", id="replication"))
        yield from self.field("retention", "Retention (7d, 12h, 30m, forever; blank: the brokers' default)",
                              Input(placeholder="retention.ms", id="retention"))
        yield from self.field("compression", "Compression",
                              Select([(c, c) for c in COMPRESSIONS], value=COMPRESSIONS[0], allow_blank=False,
                                     id="compression"))

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def check(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        name = self._value("name")
        if not re.fullmatch(STREAM_PATTERN, name):
            errors["name"] = ("1-249 of a-z A-Z 0-9 . _ -, e.g. orders.v1." if name else "A name is required.")
        elif name in (".", ".."):
            errors["name"] = "Kafka takes neither . nor .. as a topic name."
        errors |= _whole(self._value("partitions"), "partitions", 1, MAX_PARTITIONS)
        if self._value("replication"):
            errors |= _whole(self._value("replication"), "replication", 1, MAX_REPLICATION)
        try:
            retention_ms(self._value("retention"))
        except ValueError as exc:
            errors["retention"] = str(exc)
        return errors

    def field_for(self, server_field: str) -> str:
        return SERVER_FIELDS.get(server_field, server_field.split(".")[0])

    def request(self) -> StreamCreate:
        """The create request of what the form holds (after `check()` passed)."""
        replication = self._value("replication")
        compression = self.query_one("#compression", Select).value
        config = StreamConfig(retentionMs=retention_ms(self._value("retention")),
                              compressionType=None if compression == COMPRESSIONS[0] else compression)
        return StreamCreate(name=self._value("name"), partitions=int(self._value("partitions")),
                            replicationFactor=int(replication) if replication else None,
                            config=config if config.kafka_configs() else None)

    async def save(self) -> StreamDescription:
        return await self.app.client.streams.create(self.environment, self.request())
