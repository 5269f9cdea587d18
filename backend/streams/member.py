"""One consumer member of the event API (backend/streams/members.py has the model): a
`confluent_kafka.Consumer` of one (group, stream), owned by one thread that polls into a bounded
buffer whether or not anyone calls, so librdkafka's client is only touched by that thread
(commits and seeks are handed to it as commands) and a slow caller never stalls a rebalance.

On a rebalance (Kafka's eager protocol, which every client's default assignors speak) the member
drops the buffered records of the partitions it gives up, so a record is never handed out by two
members; a partition it gets straight back resumes where it was handing out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from backend.agent.kafka import librdkafka_config
from backend.environments.models import KafkaConnectionSpec
from backend.streams.deletion import DeletionWatch
from backend.streams.errors import CLUSTER_UNAVAILABLE, INVALID_OFFSET, TIMEOUT, EventApiError, stream_not_found
from backend.streams.models import ConsumedEvent
from backend.streams.records import consumed_event

log = logging.getLogger(__name__)

BUFFER_RECORDS = 2000
BUFFER_BYTES = 8 * 1024 * 1024
FETCH_BATCH = 500
# librdkafka's own queue of prefetched records (its default is 64 MiB per consumer), which bounds
# what one consume() can add to the buffer past its bound; smaller than this, fetching stalls.
PREFETCH_BYTES = 8 * 1024 * 1024
FETCH_BACKOFF_MS = 10
# The broker holds a fetch this long for partitions with nothing new: at librdkafka's 500 ms, a
# member drained by its callers sat idle for half a second at a time (5,000 records/s at most
# through the API, 22,000 at 100 ms); an idle member costs a fetch request per this.
FETCH_WAIT_MS = 100
POLL_SECONDS = 0.1  # the member's longest wait in librdkafka before it looks at its commands again
PAUSED_POLL_SECONDS = 0.005
# A full buffer waits this long for callers before the member pauses: a resumed partition is fetched
# again only ~1 s later (librdkafka's next fetch decision), which held a drained member to ~5,000/s.
FULL_WAIT_SECONDS = 0.5
BUSY_SECONDS = 1.0  # a member whose records were taken this recently has callers
POSITIONS_SECONDS = 0.05  # how often the member reads its positions and high watermarks (local calls)
METADATA_SECONDS = 10.0  # a new member's checks of the stream (and of a numeric offset)
COMMIT_SECONDS = 10.0

GONE = {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC}
Start = str | int  # "earliest", "latest" or an offset


@dataclass(frozen=True)
class Buffered:
    partition: int
    offset: int
    size: int
    event: ConsumedEvent


@dataclass(frozen=True)
class Positions:
    """What a consume answer's metadata tells of its member."""

    lag: int
    next_offsets: dict[int, int]
    partitions: list[int]


class Member:
    """The agent's member of `group` on `stream`."""

    def __init__(self, spec: KafkaConnectionSpec, group: str, stream: str, start: Start,
                 expire: Callable[[Member], bool]) -> None:
        self.group = group
        self.stream = stream
        self.start = start
        self.ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.callers = 0  # counted by the pool, under its lock
        self.last_used = time.monotonic()
        self._expire = expire
        self._consumer = Consumer(librdkafka_config(spec) | {
            "group.id": group,
            "client.id": "streamhq-agent",
            "enable.auto.commit": False,
            "auto.offset.reset": start if isinstance(start, str) else "earliest",
            "allow.auto.create.topics": False,
            "queued.max.messages.kbytes": PREFETCH_BYTES // 1024,
            # librdkafka waits a second (its default) to fetch again once that queue was full
            "fetch.queue.backoff.ms": FETCH_BACKOFF_MS,
            "fetch.wait.max.ms": FETCH_WAIT_MS,
        })
        self._lock = threading.Lock()
        self._buffer: deque[Buffered] = deque()
        self._bytes = 0
        self._buffered: dict[int, int] = {}  # partition -> records of it in the buffer
        self._assigned: set[int] = set()
        self._next: dict[int, int] = {}  # partition -> the next offset to hand out
        self._high: dict[int, int] = {}  # partition -> high watermark, as last fetched
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._paused = False
        self._taken_at = 0.0  # time.monotonic() of the last take
        self._full_since: float | None = None  # when the buffer filled, while not paused
        self._room_made = threading.Event()  # a caller took records, or a command came
        self._giving_up: dict[int, int] = {}  # partition -> next offset, between a revoke and its assign
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"streamhq-member-{group}", daemon=True)

    # The member's thread ---------------------------------------------------------------------

    def start_polling(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._prepare()
        except EventApiError as exc:
            self._closed.set()
            self._expire(self)
            self.ready.set_exception(exc)
            self._consumer.close()
            return
        self.ready.set_result(None)
        positions_read = 0.0
        deletion = DeletionWatch(self._consumer, self.stream)
        try:
            while not self._closed.is_set():
                self._run_commands()
                self._room_made.clear()
                room = self._flow()
                if room <= 0 and not self._paused:  # full: its callers get time to take some first
                    self._room_made.wait(POLL_SECONDS)
                    continue
                messages = self._consumer.consume(max(1, min(FETCH_BATCH, room)), self._poll_seconds())
                self._take_in(messages)
                if not messages and deletion.gone():
                    self._closed.set()  # as on librdkafka's report of it: the next call answers 1001
                if time.monotonic() - positions_read >= POSITIONS_SECONDS:
                    self._read_positions()
                    positions_read = time.monotonic()
                if self._expire(self):
                    break
        except Exception:
            log.exception("the consumer member of %s on %s failed; it closes", self.group, self.stream)
        finally:
            self._closed.set()
            self._expire(self)
            self._run_commands()  # each fails: the member is closed
            self._consumer.close()  # leaves the group; auto-commit is off, so nothing is committed
            self._wake()

    def _prepare(self) -> None:
        """The stream exists and a numeric start is within every partition's range; then subscribe."""
        try:
            topic = self._consumer.list_topics(self.stream, timeout=METADATA_SECONDS).topics.get(self.stream)
            if topic is None or topic.error is not None or not topic.partitions:
                raise stream_not_found(self.stream)
            if isinstance(self.start, int):
                for partition in topic.partitions:
                    low, high = self._consumer.get_watermark_offsets(
                        TopicPartition(self.stream, partition), timeout=METADATA_SECONDS)
                    if not low <= self.start <= high:
                        raise EventApiError(INVALID_OFFSET, f"Offset {self.start} is outside partition {partition}'s "
                                                            f"range {low}-{high}.", field="offset")
        except KafkaException as exc:
            raise EventApiError(CLUSTER_UNAVAILABLE, f"The environment's Kafka did not answer: {exc.args[0].str()}") \
                from None
        self._consumer.subscribe([self.stream], on_assign=self._assigned_partitions,
                                 on_revoke=self._revoked_partitions, on_lost=self._lost_partitions)

    def _assigned_partitions(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """A partition given straight back by this rebalance resumes where the member was handing
        out (nobody read it in between: an eager rebalance revokes all before it assigns); a new
        member's numeric start applies where the group has no committed position."""
        resumed, self._giving_up = self._giving_up, {}
        if isinstance(self.start, int):
            try:
                committed = consumer.committed(partitions, timeout=METADATA_SECONDS)
            except KafkaException:
                committed = partitions  # unknown: the group's position or auto.offset.reset decides
            for partition, position in zip(partitions, committed, strict=True):
                if position.offset < 0:
                    partition.offset = self.start
        for partition in partitions:
            partition.offset = resumed.get(partition.partition, partition.offset)
        if resumed or isinstance(self.start, int):
            consumer.assign(partitions)
        with self._lock:
            self._assigned |= {p.partition for p in partitions}
            self._next.update({p: n for p, n in resumed.items() if p in self._assigned})
        self._paused = False  # a new assignment starts unpaused

    def _revoked_partitions(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Their buffered records go: the next owner reads them from the group's position."""
        with self._lock:
            self._giving_up = {p.partition: self._next[p.partition] for p in partitions if p.partition in self._next}
        self._forget(partitions)

    def _lost_partitions(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Lost (the session expired): another member may have read them since, so nothing resumes."""
        self._giving_up = {}
        self._forget(partitions)

    def _forget(self, partitions: list[TopicPartition]) -> None:
        lost = {p.partition for p in partitions}
        with self._lock:
            self._assigned -= lost
            self._drop(lost)
            for partition in lost:
                self._high.pop(partition, None)

    def _drop(self, partitions: set[int]) -> None:
        kept = deque(b for b in self._buffer if b.partition not in partitions)
        self._buffer = kept
        self._bytes = sum(b.size for b in kept)
        for partition in partitions:
            self._buffered.pop(partition, None)
            self._next.pop(partition, None)

    def _flow(self) -> int:
        """How many records fit; pauses the partitions once the buffer stayed full FULL_WAIT_SECONDS
        (librdkafka drops what it prefetched for a paused partition) and resumes when a fetch fits."""
        with self._lock:
            room = BUFFER_RECORDS - len(self._buffer)
            full = room <= 0 or self._bytes >= BUFFER_BYTES
            fits = room >= FETCH_BATCH and self._bytes <= BUFFER_BYTES // 2
        if full and not self._paused:
            self._full_since = self._full_since or time.monotonic()
            if time.monotonic() - self._full_since < FULL_WAIT_SECONDS:
                return 0
            self._consumer.pause(self._consumer.assignment())
            self._paused = True
        elif self._paused and fits:
            self._consumer.resume(self._consumer.assignment())
            self._paused = False
        if not full:
            self._full_since = None
        return room

    def _poll_seconds(self) -> float:
        """Paused while callers are taking records, the member looks again soon: librdkafka cannot be
        woken when a caller makes room, and a resumed fetch takes a round trip on top."""
        busy = self._paused and time.monotonic() - self._taken_at < BUSY_SECONDS
        return PAUSED_POLL_SECONDS if busy else POLL_SECONDS

    def _take_in(self, messages: list) -> None:
        if any(m.error() is not None and m.error().code() in GONE for m in messages):
            # the stream was deleted: the member closes, and the next call answers 1001
            self._closed.set()
            return
        records = [m for m in messages if m.error() is None]
        if not records:
            return
        decoded = [Buffered(m.partition(), m.offset(), len(m.value() or b"") + len(m.key() or b""),
                            consumed_event(m)) for m in records]
        with self._lock:
            for record in decoded:
                if record.partition not in self._assigned or record.offset < self._next.get(record.partition, 0):
                    continue  # revoked, or before a seek, while librdkafka had it fetched
                self._buffer.append(record)
                self._bytes += record.size
                self._buffered[record.partition] = self._buffered.get(record.partition, 0) + 1
                self._next.setdefault(record.partition, record.offset)
        self._wake()

    def _read_positions(self) -> None:
        with self._lock:
            assigned = sorted(self._assigned)
        partitions = [TopicPartition(self.stream, p) for p in assigned]
        positions = {tp.partition: tp.offset for tp in self._consumer.position(partitions)} if partitions else {}
        highs = {p: self._consumer.get_watermark_offsets(TopicPartition(self.stream, p), cached=True)[1]
                 for p in assigned}
        with self._lock:
            for partition in assigned:
                if partition not in self._assigned:
                    continue
                if not self._buffered.get(partition) and positions.get(partition, -1) >= 0:
                    self._next[partition] = positions[partition]  # everything fetched was handed out
                if highs[partition] >= 0:
                    self._high[partition] = highs[partition]

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _wake(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is gone
                loop.call_soon_threadsafe(_release, waiter)

    # Callers ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def take(self, limit: int) -> list[ConsumedEvent]:
        """Up to `limit` buffered records, now; each handed to this caller only."""
        taken = []
        with self._lock:
            while self._buffer and len(taken) < limit:
                record = self._buffer.popleft()
                self._bytes -= record.size
                self._buffered[record.partition] -= 1
                self._next[record.partition] = record.offset + 1
                taken.append(record.event)
            self._taken_at = time.monotonic()
        if taken:
            self._room_made.set()
        return taken

    async def pull(self, limit: int, timeout: float) -> list[ConsumedEvent]:
        """Records as soon as there are any, waiting at most `timeout` seconds for the first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            taken = self.take(limit)
            remaining = deadline - loop.time()
            if taken or self.closed or remaining <= 0:
                return taken
            waiter = loop.create_future()
            with self._lock:
                if self._buffer:  # arrived since take(): no wake-up will come for it
                    continue
                self._waiters.append((loop, waiter))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, remaining)

    def positions(self) -> Positions:
        with self._lock:
            partitions = sorted(self._assigned)
            next_offsets = {p: self._next[p] for p in partitions if p in self._next}
            lag = sum(max(0, self._high[p] - offset) for p, offset in next_offsets.items() if p in self._high)
        return Positions(lag, next_offsets, partitions)

    async def commit(self, offsets: dict[int, int] | None) -> dict[int, int]:
        """Commits `offsets` (partition -> next offset), or the member's positions, on its thread;
        given offsets of partitions it holds also move it there. Answers what was committed."""
        if self.closed:
            raise EventApiError(TIMEOUT, "The member closed before it committed; commit again.")
        done: concurrent.futures.Future[dict[int, int]] = concurrent.futures.Future()

        def command() -> None:
            if self.closed:
                done.set_exception(EventApiError(TIMEOUT, "The member closed before it committed; commit again."))
                return
            try:
                done.set_result(self._commit(offsets))
            except BaseException as exc:  # the caller gets it; the member goes on
                done.set_exception(exc)

        self._commands.put(command)
        self._room_made.set()  # a member waiting on its full buffer runs it now
        try:
            return await asyncio.wait_for(asyncio.wrap_future(done), COMMIT_SECONDS)
        except TimeoutError:
            raise EventApiError(TIMEOUT, f"The commit did not finish within {COMMIT_SECONDS:.0f} s; it may still "
                                         "be written.") from None

    def _commit(self, offsets: dict[int, int] | None) -> dict[int, int]:
        with self._lock:
            chosen = dict(offsets) if offsets is not None else {
                p: n for p, n in self._next.items() if p in self._assigned}
        if not chosen:
            return {}
        try:
            answer = self._consumer.commit(
                offsets=[TopicPartition(self.stream, p, n) for p, n in chosen.items()], asynchronous=False)
        except KafkaException as exc:
            raise EventApiError(CLUSTER_UNAVAILABLE, f"Kafka refused the commit: {exc.args[0].str()}") from None
        failed = [tp for tp in answer or () if tp.error is not None]
        if failed:
            raise EventApiError(CLUSTER_UNAVAILABLE, f"Kafka refused the commit of partition {failed[0].partition}: "
                                                     f"{failed[0].error.str()}")
        if offsets is not None:
            self._move_to(offsets)
        return chosen

    def _move_to(self, offsets: dict[int, int]) -> None:
        with self._lock:
            held = {p: n for p, n in offsets.items() if p in self._assigned}
            self._drop(set(held))
            self._next.update(held)
        for partition, offset in held.items():
            try:
                self._consumer.seek(TopicPartition(self.stream, partition, offset))
            except KafkaException as exc:  # not fetching yet: the committed position is where it starts
                log.info("seek of %s[%d] to %d: %s", self.stream, partition, offset, exc)

    def close(self) -> None:
        self._closed.set()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
