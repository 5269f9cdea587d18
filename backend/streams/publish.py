"""Publishing events (seed 004's single and batch publish) through the environment's producers.

- One idempotent producer (`enable.idempotence`, `acks=all`) per compression, kept on the
  context's `kafka_clients` (at most five: the `Compression` enum bounds them), each with a
  thread that serves its delivery reports. A report resolves its event's future on the event
  loop (`call_soon_threadsafe`), so the loop never blocks on Kafka.
- The answer's partition, offset and timestamp are the delivery report's: where the broker
  wrote the record, and its timestamp as the broker stored it (the producer's CreateTime, or
  the broker's clock on a LogAppendTime topic).
- `partitionKey` places the event as librdkafka's `murmur2_random` partitioner (the producers'
  own) would place that key (backend/streams/partitioner.py): the partition is computed here from
  the stream's partition count and given to `produce(partition=…)`, and `key` stays the record's key.
- Topics are never created by a publish (`allow.auto.create.topics` off): an unknown stream is
  1001, read from the metadata before anything is produced.
- A batch's events fail one by one: an invalid event, a record over the stream's
  `max.message.bytes` (1000), an event not acknowledged within `options.timeout` (1006: it may
  still be written, the producer keeps retrying it)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from backend.agent.kafka import librdkafka_config
from backend.environments.models import KafkaConnectionSpec
from backend.streams.clients import KafkaClients
from backend.streams.errors import (
    CLUSTER_UNAVAILABLE,
    INVALID_REQUEST,
    TIMEOUT,
    EventApiError,
    stream_not_found,
)
from backend.streams.models import Compression, Published, PublishEvent
from backend.streams.partitioner import partition_for
from backend.streams.records import encode_headers, encode_value, event_id, iso_ms
from backend.streams.topics import is_internal

METADATA_SECONDS = 5.0  # a stream's partition count is read again after this long
POLL_SECONDS = 0.1  # how long the delivery thread waits for reports before checking it should stop
CLOSE_FLUSH_SECONDS = 5.0
QUEUE_FULL_PAUSE_SECONDS = 0.01  # a full producer queue is retried this often until the deadline

Outcome = Published | EventApiError


class Publisher:
    """An idempotent producer of one compression and the thread that serves its reports."""

    def __init__(self, spec: KafkaConnectionSpec, compression: Compression) -> None:
        self.compression = compression
        self.producer = Producer(librdkafka_config(spec) | {
            "client.id": f"streamhq-agent-{compression}",
            "enable.idempotence": True,
            "acks": "all",
            "compression.type": compression,
            "partitioner": "murmur2_random",  # Java's placement of keys; see partition_for
            "allow.auto.create.topics": False,
            "linger.ms": 5,
        })
        self._partitions: dict[str, tuple[float, int]] = {}  # stream -> (read at, partition count)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve_reports, name=f"streamhq-producer-{compression}",
                                        daemon=True)
        self._thread.start()

    def _serve_reports(self) -> None:
        while not self._closed.is_set():
            self.producer.poll(POLL_SECONDS)

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self.producer.flush(CLOSE_FLUSH_SECONDS)

    def partition_count(self, stream: str, timeout: float) -> int:
        """The stream's partitions, from metadata read at most METADATA_SECONDS ago (blocks)."""
        with self._lock:
            known = self._partitions.get(stream)
        if known and time.monotonic() - known[0] < METADATA_SECONDS:
            return known[1]
        try:
            topic = self.producer.list_topics(stream, timeout=timeout).topics.get(stream)
        except KafkaException as exc:
            raise EventApiError(CLUSTER_UNAVAILABLE, f"The environment's Kafka did not answer: {exc.args[0].str()}") \
                from None
        if topic is None or topic.error is not None or not topic.partitions:
            if topic is not None and topic.error is not None \
                    and topic.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise EventApiError(CLUSTER_UNAVAILABLE, f"Kafka answered {topic.error.str()} for {stream!r}.")
            raise stream_not_found(stream)
        with self._lock:
            self._partitions[stream] = (time.monotonic(), len(topic.partitions))
        return len(topic.partitions)

    def produce(self, stream: str, event: PublishEvent, partitions: int, deadline: float,
                report: asyncio.Future, loop: asyncio.AbstractEventLoop) -> None:
        """Hands one event to the producer; its delivery report settles `report` on `loop`.
        A full queue is retried until `deadline`; a refusal settles `report` at once."""
        def delivered(error: KafkaError | None, message: Message) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutdown): nobody waits for it
                loop.call_soon_threadsafe(_settle, report, error, message)

        extra = {} if event.partitionKey is None else {
            "partition": partition_for(event.partitionKey.encode(), partitions)}
        while True:
            try:
                self.producer.produce(stream, encode_value(event.value),
                                      event.key.encode() if event.key is not None else None,
                                      headers=encode_headers(event.headers), on_delivery=delivered, **extra)
                return
            except BufferError:  # librdkafka's queue is full: its reports drain it
                if time.monotonic() > deadline:
                    loop.call_soon_threadsafe(_settle_error, report, _timed_out())
                    return
                time.sleep(QUEUE_FULL_PAUSE_SECONDS)
            except KafkaException as exc:
                loop.call_soon_threadsafe(_settle_error, report, _refusal(exc.args[0]))
                return


def _settle(report: asyncio.Future, error: KafkaError | None, message: Message) -> None:
    if report.done():
        return
    if error is not None:
        report.set_result(_refusal(error))
        return
    _kind, timestamp_ms = message.timestamp()
    report.set_result(Published(eventId=event_id(message.topic(), message.partition(), message.offset()),
                                partition=message.partition(), offset=message.offset(), timestamp=iso_ms(timestamp_ms)))


def _settle_error(report: asyncio.Future, error: EventApiError) -> None:
    if not report.done():
        report.set_result(error)


def _timed_out() -> EventApiError:
    return EventApiError(TIMEOUT, "Kafka did not acknowledge the event within the timeout; it may still be "
                                  "written (the producer keeps retrying it), so read the stream before sending again.")


def _refusal(error: KafkaError) -> EventApiError:
    code = error.code()
    if code == KafkaError.MSG_SIZE_TOO_LARGE:
        return EventApiError(INVALID_REQUEST, "The record is larger than the stream takes (its max.message.bytes, "
                                              "or the producer's message.max.bytes of 1,000,000).", field="value")
    if code == KafkaError.UNKNOWN_TOPIC_OR_PART:
        return EventApiError(CLUSTER_UNAVAILABLE, f"Kafka no longer knows the stream: {error.str()}")
    if code == KafkaError._MSG_TIMED_OUT:
        return _timed_out()
    return EventApiError(CLUSTER_UNAVAILABLE, f"Kafka refused the event: {error.str()}")


@dataclass(frozen=True)
class Publication:
    """What one publish call writes."""

    stream: str
    events: Sequence[PublishEvent]
    compression: Compression
    timeout_ms: int


async def publish(clients: KafkaClients, spec: KafkaConnectionSpec, publication: Publication) -> list[Outcome]:
    """Each event's outcome, in order: published, or why not."""
    if is_internal(publication.stream):
        # Kafka refuses some (`__consumer_offsets`: a 502 that blamed the cluster) and takes
        # others (`_connect-configs`, K2K's control topics), where a stray record breaks a tool.
        raise EventApiError.bad("streamName", f"{publication.stream!r} is an internal topic: the event API "
                                              "does not publish to it")
    # off the loop: a changed connection closes the old clients first (a producer's flush)
    publisher = await asyncio.to_thread(clients.part, spec, f"producer:{publication.compression}",
                                        lambda s: Publisher(s, publication.compression))
    timeout = publication.timeout_ms / 1000
    deadline = time.monotonic() + timeout
    partitions = await asyncio.to_thread(publisher.partition_count, publication.stream, timeout)
    outcomes = await _send(publisher, publication.stream, list(publication.events), partitions, deadline)
    if len(publication.events) > 1:
        # A refused record batch fails every event librdkafka put in it: one over max.message.bytes
        # fails its neighbours. Each of those is sent again on its own, so only the big ones fail.
        for index, outcome in enumerate(outcomes):
            if _too_large(outcome) and time.monotonic() < deadline:
                (outcomes[index],) = await _send(publisher, publication.stream, [publication.events[index]],
                                                 partitions, deadline)
    return outcomes


async def _send(publisher: Publisher, stream: str, events: list[PublishEvent], partitions: int,
                deadline: float) -> list[Outcome]:
    loop = asyncio.get_running_loop()
    reports = [loop.create_future() for _ in events]

    def produce_all() -> None:
        for event, report in zip(events, reports, strict=True):
            publisher.produce(stream, event, partitions, deadline, report, loop)

    await asyncio.to_thread(produce_all)
    await asyncio.wait(reports, timeout=max(0.0, deadline - time.monotonic()))
    return [report.result() if report.done() else _timed_out() for report in reports]


def _too_large(outcome: Outcome) -> bool:
    return isinstance(outcome, EventApiError) and outcome.code == INVALID_REQUEST
