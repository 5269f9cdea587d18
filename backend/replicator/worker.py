"""The copy loop of one K2K worker process (`streamhq worker`).

Workers of an app join one consumer group on the **source** cluster, only so that Kafka
spreads the partitions across them; nothing is ever committed there. The app's positions
(the next source offset to copy, per partition) live in the consumer group of the same name
on the **target** cluster, which is also where the copies go. Each worker uses static group
membership (`group.instance.id` = its slot), so a worker restarted after a crash takes its
partitions back without a rebalance.

At-least-once: one idempotent producer. Every second, and before any partition is given up,
the producer is flushed and only then are the positions of what it delivered committed on
the target; a partition with a failed delivery is not committed but copied again from its
last commit. A crash re-copies at most what was produced since the last commit.

Exactly-once, and how zombies are fenced. The source group's coordinator cannot fence a
producer on another cluster, so fencing is bound to the partition itself: each source
partition has its own transactional producer whose `transactional.id` is
`{group}-{topic}-{partition}`. A worker that is assigned a partition first calls
`init_transactions()` with that id, which makes the target's transaction coordinator abort
(or finish) whatever the previous owner left open and fence that owner's producer epoch:
from then on every send, offset commit or commit of the old owner fails with
PRODUCER_FENCED. Only after that does the new owner read the partition's committed
position and seek there. It reads the *last committed* position without asking for a
stable one (librdkafka sends `require_stable` with read_committed, and a stable fetch is
retried for as long as the broker answers UNSTABLE_OFFSET_COMMIT): once init_transactions
has returned, the previous owner's transaction is finished or aborted, so no offset commit
of this partition can still be pending. With stable fetches, a target broker restarted in
the middle of a transaction made every restarted worker time out on `committed()` for the
whole 300 s of a CI run (the likely cause: a pending commit the restarted broker kept), and
the copy never resumed. A transaction holds the copies of one partition's records and the
commit of that partition's next position (`send_offsets_to_transaction` to the target-side
group, as a group of no members: generation -1), so a copy and its position commit or
abort together. Hence: a worker that lost a partition can never commit it again, and
nothing is copied twice or skipped as read with read_committed on the target.

The known traps: on revoke, open transactions are committed before the partition is let
go; when a partition is lost (session expired), its transaction is aborted, never
committed; after an abort, the partition is sought back to its last committed position
(a delivery that fails mid-transaction, such as a record the target refuses, aborts and
re-copies that partition only: it is retried, never skipped, and the worker stays up);
a transaction is committed every quarter second, far inside `transaction.timeout.ms`; and
since nothing is committed on the source, lag is computed by HQ from the positions stored
on the target against the source's log-end offsets.

Batches the target finds too large. librdkafka packs the records of one partition into one
record batch of up to `batch.size` (1 MB here, for throughput), and a broker refuses a batch
larger than the topic's `max.message.bytes` as a whole (MSG_SIZE_TOO_LARGE); unlike the Java
producer, librdkafka does not split it. So on a target topic with a smaller limit, records
small enough each are refused whenever a backlog batches them, and a plain re-copy batches
them again. When a delivery fails with MSG_SIZE_TOO_LARGE, the partition is copied again from
its last commit a record per batch (a flush after each) up to where copying had got, and in
batches again after that; only a record larger than the limit by itself stays refused (and
retried). Exactly-once learns the cause from ending the failed transaction, since a produce
into it only says `_STATE`. Sizing batches from each target topic's `max.message.bytes` up
front was rejected: a limit can be lowered (or raised) while the worker runs, the topic's
limit and the broker's default both count, batch overhead has to be guessed, and the one
at-least-once producer would copy every topic at the smallest topic's batch size. Reacting
to the refusal follows whatever the limit is now, and costs nothing where nothing is refused;
its price is one round trip per record over the refused stretch.

A worker reports a heartbeat (state, partitions, counters, last error) every few seconds
to the app's compacted control topic on the target, where HQ reads it whether the worker
runs locally or in Kubernetes."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from backend.clock import utc_now_iso
from backend.replicator.config import WorkerConfig, control_topic
from backend.replicator.topics import TopicProblem, ensure_control_topic, ensure_copies
from backend.replicator.worker_log import client_log, configure

log = logging.getLogger("streamhq.worker")

BATCH = 10_000
# While a partition is copied a record per batch (a round trip each), fewer at a time, so that
# commits and heartbeats keep their pace.
ONE_BY_ONE_BATCH = 200
EOS_COMMIT_SECONDS = 0.25
ALO_COMMIT_SECONDS = 1.0
HEARTBEAT_SECONDS = 2.0
TIMEOUT = 30.0
# librdkafka's send_offsets_to_transaction can block forever once the transaction coordinator it
# cached has restarted (confluentinc/librdkafka#5511, open). Past this, the worker gives up the
# process: a new one fences the stuck producer and resumes from the committed positions.
STUCK_SECONDS = 2 * TIMEOUT + 10

TP = tuple[str, int]

# Exit codes the controller tells apart: a restart may help (1), or it will not (2).
EXIT_RETRY = 1
EXIT_CONFIG = 2


def subscription(topics: list[str]) -> list[str]:
    """Spec topics as librdkafka subscriptions: `regex:p` becomes the anchored pattern `^p$`."""
    return [f"^{t.removeprefix('regex:')}$" if t.startswith("regex:") else t for t in topics]


class Stuck(Exception):
    """A Kafka client call hangs past every timeout it was given: only a new process recovers."""


class Fenced(Exception):
    """Another worker owns a partition this one still held: stop and start over."""


@dataclass
class Counters:
    records: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, config: WorkerConfig, worker_id: str) -> None:
        self.config = config
        self.worker_id = worker_id
        self.stopping = threading.Event()
        self.counters = Counters()
        self.positions: dict[TP, int] = {}  # next offset to copy, as far as produced
        self.committed: dict[TP, int] = {}  # as committed on the target
        self.undelivered: dict[TP, KafkaError] = {}  # at-least-once: partitions to copy again
        self.one_by_one: dict[TP, int] = {}  # copied a record per batch up to this offset (a refused batch)
        self.ensured_topics: set[str] = set()
        self.failure: str | None = None
        self.abandoning = False
        self.stuck = False
        self.client_errors = 0  # errors the Kafka clients reported (a refused connection is one)

        # Every client logs through Python logging, where repeats are rate-limited (worker_log).
        source = {**config.source, "logger": client_log, "error_cb": self._client_error}
        target = {**config.target, "logger": client_log, "error_cb": self._client_error}
        overrides = config.consumer
        self.source = Consumer({
            **source,
            "group.id": config.group,
            "group.instance.id": f"{config.group}-{worker_id}",
            "client.id": f"{config.group}-{worker_id}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "session.timeout.ms": 10_000,
            "topic.metadata.refresh.interval.ms": 5_000,  # regex topics: new matches are picked up
            "partition.assignment.strategy": "range",
            **overrides,
        })
        # The positions' home: a group on the target that no consumer ever joins. read_uncommitted
        # only so that committed() reads the last committed positions without require_stable
        # (see the module's docstring); it reads no records.
        self.target_group = Consumer({
            **target,
            "group.id": config.group,
            "isolation.level": "read_uncommitted",
            "enable.auto.commit": False,
        })
        self.source_admin = AdminClient(source)
        self.target_admin = AdminClient(target)
        self.status_producer = Producer({**target, "linger.ms": 0})
        self.producer: Producer | None = (None if config.exactly_once
                                          else self._producer({"on_delivery": self._delivered}))
        self.transactional: dict[TP, Producer] = {}
        self.open: set[TP] = set()  # partitions with an open transaction
        self.committing: dict[TP, float] = {}  # when each running commit call started
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="txn")

    # producers

    def _producer(self, extra: dict[str, Any]) -> Producer:
        return Producer({
            **self.config.target,
            "logger": client_log,
            "error_cb": self._client_error,
            "client.id": f"{self.config.group}-{self.worker_id}",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.size": 1_000_000,
            "message.max.bytes": 10_000_000,
            "queue.buffering.max.kbytes": 262_144,
            **self.config.producer,
            **extra,
        })

    def _delivered(self, err: KafkaError | None, message: Message) -> None:
        # A copy keeps its source's topic and partition, so the report names the source partition.
        if err is not None:
            self.undelivered.setdefault((message.topic(), message.partition()), err)

    def _transactional(self, tp: TP) -> Producer:
        producer = self._producer({
            "transactional.id": f"{self.config.group}-{tp[0]}-{tp[1]}",
            "transaction.timeout.ms": self.config.producer.get("transaction.timeout.ms", 60_000),
        })
        producer.init_transactions(TIMEOUT)  # fences the partition's previous owner
        return producer

    # rebalance callbacks (run inside consume())

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        topics = {p.topic for p in partitions} - self.ensured_topics
        if topics:
            ensure_copies(self.source_admin, self.target_admin, topics, self.config.auto_create_topics)
            self.ensured_topics |= topics
        tps = [(p.topic, p.partition) for p in partitions]
        if self.config.exactly_once:
            for tp, producer in zip(tps, self.pool.map(self._transactional, tps), strict=True):
                self.transactional[tp] = producer
        committed = self.target_group.committed([TopicPartition(t, p) for t, p in tps], timeout=TIMEOUT)
        for position in committed:
            tp = (position.topic, position.partition)
            if position.offset >= 0:
                self.committed[tp] = self.positions[tp] = position.offset
            else:
                position.offset = OFFSET_INVALID  # no position yet: auto.offset.reset decides
        consumer.assign(committed)
        log.info("assigned %s", _describe(committed))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        try:
            if not self.abandoning:
                self.commit()
        finally:
            self._release([(p.topic, p.partition) for p in partitions])
        log.info("revoked %s", _describe(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Someone else may own these already: abort, never commit. Their new owner has most
        # likely fenced our producers, so a failed abort is expected and changes nothing: the
        # owner's init_transactions has aborted what we left open.
        tps = [(p.topic, p.partition) for p in partitions]
        try:
            for tp in tps:
                if tp in self.open:
                    try:
                        self._abort(tp, rewind=False)
                    except (Fenced, KafkaException) as exc:
                        log.warning("%s[%s] was taken over before its transaction was aborted: %s", *tp, exc)
        finally:
            self._release(tps)
        log.warning("lost %s", _describe(partitions))

    def _release(self, tps: list[TP]) -> None:
        for tp in tps:
            self.positions.pop(tp, None)
            self.committed.pop(tp, None)
            self.one_by_one.pop(tp, None)
            producer = self.transactional.pop(tp, None)
            if producer is not None:
                producer.flush(0)

    # copying

    def copy(self, messages: list[Message]) -> None:
        keep = self.config.keep_timestamps
        failed: set[TP] = set()  # exactly-once: transactions to settle and copy again
        for message in messages:
            err = message.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                if err.fatal() or err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                    raise KafkaException(err)
                self._note_error(f"source: {err.str()}")
                continue
            tp = (message.topic(), message.partition())
            producer = self.producer if self.producer is not None else self.transactional.get(tp)
            if producer is None or tp in failed:  # no longer ours (fetched before a revoke), or to be re-copied
                continue
            self.committed.setdefault(tp, message.offset())
            try:
                if self.producer is None and tp not in self.open:
                    producer.begin_transaction()
                    self.open.add(tp)
                self._produce(producer, tp, message, message.timestamp()[1] if keep else 0)
                if tp in self.one_by_one:
                    self._deliver_alone(producer, tp, message.offset())
            except KafkaException as exc:
                # Most often a delivery in this transaction failed (the target refused a record, a
                # timeout): its producer takes nothing more until the transaction is aborted.
                if self.producer is not None or exc.args[0].fatal():
                    raise
                self._note_error(f"copy to {tp[0]}[{tp[1]}] refused: {exc.args[0].str()}")
                failed.add(tp)
                continue
            value = message.value()
            self.positions[tp] = message.offset() + 1
            self.counters.records += 1
            self.counters.bytes += len(value) if value else 0
        for tp in failed:
            self._settle(tp)
        if self.producer is not None:
            self.producer.poll(0)

    def _deliver_alone(self, producer: Producer, tp: TP, offset: int) -> None:
        """The record just produced goes to the target in a batch of its own (see the known traps)."""
        if producer.flush(TIMEOUT) > 0:
            # Waiting as long for each record of the stretch would stall the loop for hours: the
            # partition's copy fails instead (exactly-once aborts it, at-least-once restarts).
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"the target took no copy in {TIMEOUT:.0f}s "
                                            f"while {tp[0]}[{tp[1]}] was copied a record per batch"))
        if offset + 1 >= self.one_by_one[tp]:
            del self.one_by_one[tp]

    def _settle(self, tp: TP) -> None:
        """Ends the transaction of a partition whose copy was refused, and copies it again from its
        last commit. A produce into a failed transaction only says `_STATE`: ending it is what reports
        the delivery that failed (and aborts), which the rewind needs to know. A transaction that had
        not failed (a local refusal) commits what it holds."""
        if tp in self.open:
            self._commit_transactions([tp])  # a commit can hang too (librdkafka#5511)
        self._rewind(tp)

    def _produce(self, producer: Producer, tp: TP, message: Message, timestamp: int) -> None:
        while True:
            try:
                producer.produce(tp[0], message.value(), message.key(), partition=tp[1],
                                 timestamp=timestamp, headers=message.headers())
                return
            except BufferError:  # the target is slower than the source: wait for room
                producer.poll(0.05)

    # committing

    def commit(self) -> None:
        if self.config.exactly_once:
            self._commit_transactions(sorted(self.open))
        else:
            self._commit_positions()

    def _commit_positions(self) -> None:
        assert self.producer is not None
        while self.producer.flush(TIMEOUT) > 0:
            self._note_error("target: deliveries are slow; still waiting for them before committing")
        undelivered, self.undelivered = self.undelivered, {}
        for tp, err in undelivered.items():
            if err.fatal():
                raise KafkaException(err)
            if tp in self.positions:  # not since released
                self._note_error(f"target: {tp[0]}[{tp[1]}] not delivered, copying again from its last "
                                 f"commit: {err.str()}")
                self._rewind(tp, cause=err)
        moved = [TopicPartition(t, p, o) for (t, p), o in self.positions.items() if self.committed.get((t, p)) != o]
        if moved:
            # A commit that fails for some partitions only says so per partition: those are
            # committed again next round.
            for position in self.target_group.commit(offsets=moved, asynchronous=False) or moved:
                if position.error is not None:
                    self._note_error(f"target: committing {position.topic}[{position.partition}]: "
                                     f"{position.error.str()}")
                    continue
                self.committed[(position.topic, position.partition)] = position.offset

    def _commit_transactions(self, tps: list[TP]) -> None:
        """Commits (or, where they failed, aborts) the open transactions of `tps`, side by side."""
        commits = [self.pool.submit(self._commit_one, tp) for tp in tps]
        pending = set(commits)
        while pending:
            _, pending = wait(pending, timeout=1.0)
            # Only a call that has been running too long is stuck, not one queued behind others.
            oldest = min(list(self.committing.values()), default=None)
            if pending and oldest is not None and time.monotonic() - oldest > STUCK_SECONDS:
                raise Stuck(f"a transaction commit has not returned in {STUCK_SECONDS:.0f}s "
                            "(librdkafka#5511 after a coordinator restart): restarting from the committed positions")
        for commit in commits:
            commit.result()

    def _commit_one(self, tp: TP) -> None:
        self.committing[tp] = time.monotonic()
        try:
            self._commit_transaction(tp)
        finally:
            self.committing.pop(tp, None)

    def _commit_transaction(self, tp: TP) -> None:
        producer = self.transactional[tp]
        position = self.positions[tp]
        group = self.target_group.consumer_group_metadata()
        try:
            producer.send_offsets_to_transaction([TopicPartition(tp[0], tp[1], position)], group, TIMEOUT)
            while True:
                try:
                    producer.commit_transaction(TIMEOUT)
                    break
                except KafkaException as exc:
                    if not exc.args[0].retriable():
                        raise
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.txn_requires_abort():
                self._note_error(f"transaction on {tp[0]}[{tp[1]}] aborted: {err.str()}")
                self._abort(tp, rewind=True, cause=err)
                return
            if err.code() == KafkaError._FENCED or err.fatal():
                raise Fenced(f"{tp[0]}[{tp[1]}]: {err.str()}") from None
            raise
        self.open.discard(tp)
        self.committed[tp] = position

    def _abort(self, tp: TP, rewind: bool, cause: KafkaError | None = None) -> None:
        if tp in self.open:
            self.open.discard(tp)
            try:
                self.transactional[tp].abort_transaction(TIMEOUT)
            except KafkaException as exc:
                if exc.args[0].fatal():
                    raise Fenced(f"{tp[0]}[{tp[1]}]: {exc.args[0].str()}") from None
                raise
        if rewind:
            self._rewind(tp, cause)

    def _rewind(self, tp: TP, cause: KafkaError | None = None) -> None:
        """Copying of the partition starts over from its last committed position; after a batch the
        target found too large, a record per batch up to where copying had got."""
        if cause is not None and cause.code() == KafkaError.MSG_SIZE_TOO_LARGE and tp in self.positions:
            self.one_by_one[tp] = max(self.positions[tp], self.one_by_one.get(tp, 0))
        position = self.committed.get(tp, OFFSET_BEGINNING)
        self.positions[tp] = position
        self.source.seek(TopicPartition(tp[0], tp[1], position))

    # the clients' own reports

    def _client_error(self, err: KafkaError) -> None:
        # librdkafka logs the same failure itself; counting it is all that is left to do.
        self.client_errors += 1

    def serve_clients(self) -> None:
        """Passes on the log lines and errors of the clients that copying does not poll: a
        client holds them until it is polled."""
        for client in (self.source_admin, self.target_admin, self.target_group, *self.transactional.values()):
            client.poll(0)

    # heartbeats

    def _note_error(self, message: str) -> None:
        log.warning("%s", message)
        self.counters.errors = [*self.counters.errors[-9:], f"{utc_now_iso()} {message}"]

    def heartbeat(self, state: str) -> None:
        beat = {
            "worker": self.worker_id, "host": socket.gethostname(), "pid": os.getpid(), "app": self.config.app,
            "generation": self.config.generation, "state": state, "time": utc_now_iso(),
            "partitions": sorted(f"{t}[{p}]" for t, p in self.positions),
            "records": self.counters.records, "bytes": self.counters.bytes,
            "errors": self.counters.errors, "error": self.failure,
        }
        self.status_producer.produce(control_topic(self.config.app), json.dumps(beat).encode(),
                                     self.worker_id.encode())
        self.status_producer.poll(0)

    # the loop

    def run(self) -> int:
        try:
            ensure_control_topic(self.target_admin, control_topic(self.config.app),
                                 self.config.auto_create_control_topics)
        except TopicProblem as exc:
            log.error("%s", exc)
            return EXIT_CONFIG
        except KafkaException as exc:  # the target is unreachable: the controller retries, with backoff
            log.error("the target cluster did not answer: %s", exc.args[0].str())
            return EXIT_RETRY
        self.source.subscribe(subscription(self.config.topics), on_assign=self._on_assign,
                              on_revoke=self._on_revoke, on_lost=self._on_lost)
        code = 0
        try:
            self._loop()
        except TopicProblem as exc:
            self.failure, code = str(exc), EXIT_CONFIG
        except (KafkaException, Fenced, Stuck) as exc:
            self.failure, code = str(exc), EXIT_RETRY
            self.stuck = isinstance(exc, Stuck)
        if self.failure:
            log.error("%s", self.failure)
        self.heartbeat("failed" if code else "stopped")
        self.status_producer.flush(5)
        self.pool.shutdown(wait=False)
        return code

    def _loop(self) -> None:
        interval = EOS_COMMIT_SECONDS if self.config.exactly_once else ALO_COMMIT_SECONDS
        next_commit = next_beat = time.monotonic()
        try:
            while not self.stopping.is_set():
                messages = self.source.consume(ONE_BY_ONE_BATCH if self.one_by_one else BATCH, 0.1)
                if messages:
                    self.copy(messages)
                now = time.monotonic()
                if now >= next_commit:
                    self.commit()
                    next_commit = now + interval
                if now >= next_beat:
                    self.serve_clients()
                    self.heartbeat("running")
                    next_beat = now + HEARTBEAT_SECONDS
            self.commit()
        except BaseException:
            self.abandoning = True  # closing must not commit what a failed round left open
            raise
        finally:
            try:
                self.source.close()  # static member: the slot keeps its partitions until the session expires
            except KafkaException as exc:
                self._note_error(f"closing the source consumer: {exc}")


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in partitions) or "nothing"


def run_worker(config: WorkerConfig, worker_id: str) -> int:
    """Runs until SIGTERM/SIGINT (then commits what it copied and exits 0) or a failure."""
    configure(worker_id)
    worker = Worker(config, worker_id)

    def stop(*_: object) -> None:
        worker.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = worker.run()
    if worker.stuck:
        logging.shutdown()
        os._exit(code)  # a normal exit would wait forever for the thread stuck inside librdkafka
    return code
