"""Records between Kafka and the event API's JSON: what a publish writes and what a consume or a
tail answers. Pure functions over librdkafka's `Message`, shared by every route that reads
records, so an event looks the same however it is read.

- `eventId` is `<stream>:<partition>:<offset>`: it addresses the record (a topic name cannot
  hold `:`), so the id a publish answers comes back when the record is consumed.
- A value is written as its compact JSON. Read back, a value that is JSON is decoded; one that
  is not is its UTF-8 text (`valueEncoding: string`), or base64 when it is not UTF-8 either
  (`valueEncoding: base64`): records written by other producers never make a consume fail.
- Header values that are not UTF-8 come back as `base64:<base64>`; a repeated header keeps its
  last value (the JSON shape is a map)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import lru_cache

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message
from pydantic import JsonValue

from backend.streams.models import ConsumedEvent

BASE64_HEADER = "base64:"


def event_id(stream: str, partition: int, offset: int) -> str:
    return f"{stream}:{partition}:{offset}"


def timestamp_ms(moment: datetime) -> int:
    """A time (UTC when it has no zone) as the Kafka timestamp to look offsets up by. A time
    before 1970 is 0: no record is older, and ListOffsets reads -1 and -2 as latest and
    earliest and refuses other negatives."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return max(0, int(aware.timestamp() * 1000))


def iso_ms(timestamp_ms: int) -> str:
    """A Kafka timestamp (ms since the epoch) as ISO 8601 UTC with milliseconds."""
    seconds, millis = divmod(timestamp_ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


@lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    # Records come in runs of the same second: formatting a datetime was a fifth of a consume's time.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def encode_value(value: JsonValue) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def encode_headers(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in headers.items()]


def _text(data: bytes) -> str | None:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def decode_value(data: bytes | None) -> tuple[JsonValue, str]:
    """A record's value and its `valueEncoding`."""
    if data is None:
        return None, "json"
    text = _text(data)
    if text is None:
        return base64.b64encode(data).decode(), "base64"
    try:
        return json.loads(text), "json"
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
        return text, "string"


def consumed_event(message: Message) -> ConsumedEvent:
    """A consumed record (no error) as the API answers it."""
    kind, timestamp_ms = message.timestamp()
    value, value_encoding = decode_value(message.value())
    raw_key = message.key()
    key_text = _text(raw_key) if raw_key is not None else None
    headers = {}
    for name, data in message.headers() or ():
        text = _text(data) if data is not None else ""
        headers[name] = text if text is not None else BASE64_HEADER + base64.b64encode(data).decode()
    # Built from what was just decoded, which fits the model: validating it again cost a third of
    # a consume's time.
    return ConsumedEvent.model_construct(
        eventId=event_id(message.topic(), message.partition(), message.offset()),
        partition=message.partition(),
        offset=message.offset(),
        timestamp=iso_ms(timestamp_ms) if kind != TIMESTAMP_NOT_AVAILABLE else "",
        key=key_text if raw_key is None or key_text is not None else base64.b64encode(raw_key).decode(),
        keyEncoding="string" if raw_key is None or key_text is not None else "base64",
        value=value,
        headers=headers,
        valueEncoding=value_encoding,
    )
