"""Tails: a live read of a stream for one client, with no consumer group (the route is
backend/streams/tail_routes.py).

Each tail is an `assign()`-only librdkafka consumer (its group.id is unique and never used: no
join, no commit, so a tail never shows up as a group nor moves anybody's position), owned by one
thread that polls it and turns each poll's records into one SSE frame (`event: records`). The
frames go to the client through a queue of QUEUED_FRAMES: when the client reads slower than the
stream writes, the queue fills, the thread stops polling until the client takes a frame, and
librdkafka stops fetching once its own prefetch (`queued.max.messages.kbytes`) is full. So a
slow client holds at most a few frames and a few MiB of prefetch; nothing is dropped, the tail
just falls behind the stream.

At most MAX_TAILS tails per environment (QUOTA_EXCEEDED beyond). A tail ends when its client
goes: `close()` stops the thread, which closes the consumer and gives the slot back."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from pydantic import TypeAdapter, ValidationError

from backend.agent.kafka import librdkafka_config
from backend.environments.models import KafkaConnectionSpec
from backend.streams.clients import KafkaClients
from backend.streams.deletion import DeletionWatch
from backend.streams.errors import (
    CLUSTER_UNAVAILABLE,
    INTERNAL_ERROR,
    INVALID_OFFSET,
    QUOTA_EXCEEDED,
    EventApiError,
    stream_not_found,
)
from backend.streams.models import TailPosition, TailReady
from backend.streams.records import consumed_event, timestamp_ms

log = logging.getLogger(__name__)

MAX_TAILS = 16  # per environment: each is a consumer with its sockets and librdkafka's threads
QUEUED_FRAMES = 4  # frames waiting for a slow client before the tail stops polling
FRAME_EVENTS = 500  # records in one frame at most
FRAME_BYTES = 512 * 1024  # a frame's records' JSON, at most (a larger record goes alone)
PREFETCH_KBYTES = 2048  # librdkafka's prefetch per tail (its default, 64 MiB, would be per client)
POLL_SECONDS = 0.25  # how long the thread waits for a record before it looks whether to stop
START_TIMEOUT_SECONDS = 10.0  # metadata and offsets reads that place the tail
FROM_FIELD = "from"
END = b""  # the frame that says the tail has ended

_INTEGER = re.compile(r"\d{1,19}")
_MOMENT = TypeAdapter(datetime)


@dataclass(frozen=True)
class TailStart:
    """Where a tail starts: `latest`, `earliest`, an offset (each partition), or a time."""

    kind: Literal["latest", "earliest", "offset", "time"]
    offset: int = 0
    at_ms: int = 0


def parse_from(text: str) -> TailStart:
    """`from` as the client wrote it; INVALID_OFFSET naming `from` when it is none of the four."""
    value = text.strip()
    if value in ("latest", "earliest"):
        return TailStart(value)  # type: ignore[arg-type]
    if _INTEGER.fullmatch(value):
        return TailStart("offset", offset=int(value))
    try:
        # As the offsets route reads its `at` (pydantic's ISO 8601): without a zone, UTC.
        moment = _MOMENT.validate_python(value) if re.match(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValidationError:
        moment = None
    if moment is None:
        raise EventApiError(INVALID_OFFSET, f"from: {text[:64]!r} is none of latest, earliest, an offset (0 or more) "
                            "or an ISO 8601 time (2026-12-01T14:00:00Z)", field=FROM_FIELD)
    return TailStart("time", at_ms=timestamp_ms(moment))


def consumer_config(spec: KafkaConnectionSpec) -> dict:
    return librdkafka_config(spec) | {
        "group.id": f"streamhq-tail-{uuid.uuid4().hex}",  # librdkafka wants one; assign() never uses it
        "client.id": "streamhq-tail",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",  # a position the retention deleted meanwhile: the oldest left
        "queued.max.messages.kbytes": PREFETCH_KBYTES,
        "fetch.max.bytes": PREFETCH_KBYTES * 1024,  # one fetch answer fits the prefetch (50 MiB by default)
        "socket.connection.setup.timeout.ms": int(START_TIMEOUT_SECONDS * 1000),
    }


def _frames(messages: list[Message]) -> Iterator[bytes]:
    """The records of one poll as `event: records` frames of at most FRAME_EVENTS / FRAME_BYTES."""
    chunk: list[str] = []
    size = 0
    for message in messages:
        encoded = consumed_event(message).model_dump_json()
        if chunk and (len(chunk) >= FRAME_EVENTS or size + len(encoded) > FRAME_BYTES):
            yield _records_frame(chunk)
            chunk, size = [], 0
        chunk.append(encoded)
        size += len(encoded)
    if chunk:
        yield _records_frame(chunk)


def _records_frame(events: list[str]) -> bytes:
    return ('event: records\ndata: {"events":[' + ",".join(events) + "]}\n\n").encode()


def error_frame(error: EventApiError) -> bytes:
    return f"event: error\ndata: {error.body().model_dump_json(exclude_none=True)}\n\n".encode()


def ready_frame(ready: TailReady) -> bytes:
    return f"event: ready\ndata: {ready.model_dump_json()}\n\n".encode()


class Tail:
    """One client's tail. `next_frame()` is the client's side (on the event loop); the thread
    polls. Public probes: `queued_frames`, `held_back` (the thread waits for the client),
    `records_read`, `closed` (the consumer is closed)."""

    def __init__(self, consumer: Consumer, ready: TailReady, registry: TailRegistry,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.ready = ready
        self._consumer = consumer
        self._registry = registry
        self._loop = loop
        self._frames: asyncio.Queue[bytes] = asyncio.Queue()  # bounded by the slots below
        self._slots = threading.BoundedSemaphore(QUEUED_FRAMES)
        self._stop = threading.Event()
        self._closed = threading.Event()
        self.held_back = False
        self.records_read = 0
        self._thread = threading.Thread(target=self._run, name=f"tail-{ready.stream}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def queued_frames(self) -> int:
        return self._frames.qsize()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Stops the tail (at once; the thread closes the consumer within POLL_SECONDS)."""
        self._stop.set()

    async def next_frame(self, timeout: float) -> bytes | None:
        """The next frame, END once the tail has ended, None after `timeout` seconds without one."""
        try:
            frame = await asyncio.wait_for(self._frames.get(), timeout)
        except TimeoutError:
            return None
        if frame is not END:
            self._slots.release()
        return frame

    # the thread

    def _run(self) -> None:
        try:
            self._poll_until_stopped()
        except Exception:  # a tail must end with its reason said, not hang its client
            log.exception("the tail of %s failed", self.ready.stream)
            self._hand_over(error_frame(EventApiError(INTERNAL_ERROR, "The tail failed; the agent's log has why.")))
        finally:
            try:
                self._consumer.close()
            finally:
                self._closed.set()
                self._registry.forget(self)
                self._deliver(END)

    def _poll_until_stopped(self) -> None:
        deletion = DeletionWatch(self._consumer, self.ready.stream)
        while not self._stop.is_set():
            first = self._consumer.poll(POLL_SECONDS)
            if first is None:
                if deletion.gone():
                    self._hand_over(error_frame(stream_not_found(self.ready.stream)))
                    return
                continue
            messages = [first, *self._consumer.consume(FRAME_EVENTS - 1, timeout=0)]
            records = [m for m in messages if m.error() is None]
            self.records_read += len(records)
            for frame in _frames(records):
                if not self._hand_over(frame):
                    return
            if (failure := self._fatal(messages)) is not None:
                self._hand_over(error_frame(failure))
                return

    def _fatal(self, messages: list[Message]) -> EventApiError | None:
        for message in messages:
            error: KafkaError | None = message.error()
            if error is None:
                continue
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return stream_not_found(self.ready.stream)
            if error.fatal():
                return EventApiError(CLUSTER_UNAVAILABLE, f"The tail stopped: {error.str()}")
            log.info("the tail of %s goes on after: %s", self.ready.stream, error.str())
        return None

    def _hand_over(self, frame: bytes) -> bool:
        """Queues `frame` once the client has room for it; False when the tail stopped meanwhile."""
        while not self._slots.acquire(timeout=POLL_SECONDS):
            self.held_back = True
            if self._stop.is_set():
                return False
        self.held_back = False
        return self._deliver(frame)

    def _deliver(self, frame: bytes) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._frames.put_nowait, frame)
        except RuntimeError:  # the event loop is gone: nobody reads this tail any more
            self._stop.set()
            return False
        return True


class TailRegistry:
    """The environment's tails (a part of its KafkaClients: closed with the connection)."""

    def __init__(self, spec: KafkaConnectionSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._tails: set[Tail] = set()
        self._starting = 0

    @property
    def count(self) -> int:
        """Tails open now (a public probe)."""
        with self._lock:
            return len(self._tails)

    def open_tails(self) -> list[Tail]:
        """The tails open now (a public probe)."""
        with self._lock:
            return list(self._tails)

    def open(self, stream: str, start: TailStart, partition: int | None, loop: asyncio.AbstractEventLoop) -> Tail:
        """A started tail of `stream` (blocking: reads the cluster to place it)."""
        with self._lock:
            if len(self._tails) + self._starting >= MAX_TAILS:
                raise EventApiError(QUOTA_EXCEEDED, f"The environment has {MAX_TAILS} tails open, as many as it "
                                    "takes: close one (leave its screen) and try again.")
            self._starting += 1
        consumer = Consumer(consumer_config(self.spec))
        try:
            positions = place(consumer, stream, start, partition)
            consumer.assign([TopicPartition(stream, p.partition, p.offset) for p in positions])
            tail = Tail(consumer, TailReady(stream=stream, partitions=positions), self, loop)
        except BaseException:
            consumer.close()
            with self._lock:
                self._starting -= 1
            raise
        with self._lock:
            self._starting -= 1
            self._tails.add(tail)
        tail.start()
        return tail

    def forget(self, tail: Tail) -> None:
        with self._lock:
            self._tails.discard(tail)

    def close(self) -> None:
        with self._lock:
            tails = list(self._tails)
        for tail in tails:
            tail.close()


def tail_registry(clients: KafkaClients, spec: KafkaConnectionSpec) -> TailRegistry:
    """The environment's tails on this connection (its KafkaClients close them when it changes)."""
    return clients.part(spec, "tails", TailRegistry)


def place(consumer: Consumer, stream: str, start: TailStart, partition: int | None) -> list[TailPosition]:
    """The offset each partition's tail starts at (or the refusal: no such stream, partition or offset)."""
    try:
        topic = consumer.list_topics(stream, timeout=START_TIMEOUT_SECONDS).topics.get(stream)
        if topic is None or (topic.error is not None and topic.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
            raise stream_not_found(stream)
        partitions = sorted(topic.partitions)
        if partition is not None:
            if partition not in topic.partitions:
                raise EventApiError.bad("partition", f"{stream} has partitions 0 to {len(partitions) - 1}")
            partitions = [partition]
        ranges = {p: consumer.get_watermark_offsets(TopicPartition(stream, p), timeout=START_TIMEOUT_SECONDS,
                                                    cached=False) for p in partitions}
        if start.kind == "time":
            found = consumer.offsets_for_times([TopicPartition(stream, p, start.at_ms) for p in partitions],
                                               timeout=START_TIMEOUT_SECONDS)
            at = {tp.partition: tp.offset for tp in found}
            return [TailPosition(partition=p, offset=at[p] if at.get(p, -1) >= 0 else ranges[p][1]) for p in partitions]
    except KafkaException as exc:
        reason = exc.args[0].str()
        raise EventApiError(CLUSTER_UNAVAILABLE, f"The environment's Kafka did not answer: {reason}") from exc
    if start.kind == "offset":
        highest = max(high for _, high in ranges.values())
        if start.offset > highest:
            raise EventApiError(INVALID_OFFSET, f"from: offset {start.offset} is past the end of every partition "
                                f"(the highest end offset is {highest})", field=FROM_FIELD)
        # Each partition from the offset, or from its oldest record when retention took that one.
        return [TailPosition(partition=p, offset=min(max(start.offset, low), high))
                for p, (low, high) in ranges.items()]
    index = 0 if start.kind == "earliest" else 1
    return [TailPosition(partition=p, offset=ranges[p][index]) for p in partitions]
