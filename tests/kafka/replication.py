"""Test harness for the replicator on the sandbox's two clusters: sequence-numbered records
into the source, worker processes started and killed like an operator (or a crash) would,
and the target read back with read_committed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupState,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from backend.replicator.config import WorkerConfig, consumer_group
from backend.replicator.offsets import Cluster
from tests.kafka.conftest import create_topic
from tests.waiting import until

STREAMHQ = str(Path(sys.executable).with_name("streamhq"))
PARTITIONS = 6
ROUND = 1000  # records per partition that the producer sends at a time


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def worker_config(source: dict, target: dict, topics: list[str], **replicator) -> WorkerConfig:
    app = unique("app")
    return WorkerConfig(app=app, generation=1, group=consumer_group(app),
                        source={"bootstrap.servers": source["bootstrap"]},
                        target={"bootstrap.servers": target["bootstrap"]},
                        topics=topics, auto_create_topics=True, auto_create_control_topics=True, **replicator)


class Workers:
    """`streamhq worker` processes of one app, by slot."""

    def __init__(self, config: WorkerConfig, directory: Path, *, restart: bool = False) -> None:
        """With `restart`, a worker that exits on its own is started again, as HQ's controller does."""
        self.config = config
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.file = directory / "config.json"
        self.file.write_text(json.dumps(config.model_dump()))
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts = 0
        self._supervising = restart
        self._lock = threading.Lock()  # a restart and stop_all never cross

    def _restart_when_it_exits(self, slot: str, process: subprocess.Popen) -> None:
        process.wait()
        with self._lock:
            # kill() takes a process out of `processes` before it dies: only one that exited on
            # its own is still there.
            if self._supervising and self.processes.get(slot) is process:
                self.restarts += 1
                self._start(slot)

    def start(self, slot: str) -> subprocess.Popen:
        with self._lock:
            return self._start(slot)

    def _start(self, slot: str) -> subprocess.Popen:
        log = (self.directory / f"worker-{slot}.log").open("ab")
        process = subprocess.Popen([STREAMHQ, "worker", "--app", self.config.app, "--config", str(self.file),
                                    "--worker-id", slot], stdout=log, stderr=subprocess.STDOUT)
        self.processes[slot] = process
        if self._supervising:
            threading.Thread(target=self._restart_when_it_exits, args=(slot, process), daemon=True).start()
        return process

    def kill(self, slot: str) -> None:
        process = self.processes.pop(slot)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        with self._lock:
            self._supervising = False
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(f.read_text()[-3000:] for f in sorted(self.directory.glob("worker-*.log")))

    def log(self, slot: str) -> str:
        return (self.directory / f"worker-{slot}.log").read_text()


class Progress:
    """How far an app has got, as the clusters themselves say: the partitions each worker slot
    owns in the app's group on the source, and what the workers have written to the target.
    Written rather than committed: it grows between two commits, where the committed positions
    jump at each, and asking for the positions of a group before its first commit is how a run
    on a fresh cluster crashed this confluent-kafka (a segfault, as in confluent-kafka-python#1982)."""

    def __init__(self, source: dict, target: dict, config: WorkerConfig) -> None:
        self.group = config.group
        self.topic = config.topics[0]  # the tests' apps copy one topic
        self.source_admin = AdminClient({"bootstrap.servers": source["bootstrap"]})
        self.target = Cluster({"bootstrap.servers": target["bootstrap"]})

    def owners(self) -> dict[str, set[int]]:
        """Partitions by worker slot, once the group has settled (empty while it rebalances).
        A worker killed with -9 stays a member, holding its partitions, until its session expires."""
        description = self.source_admin.describe_consumer_groups(
            [self.group], request_timeout=10)[self.group].result(30)
        if description.state != ConsumerGroupState.STABLE:
            return {}
        return {member.group_instance_id.removeprefix(f"{self.group}-"):
                {tp.partition for tp in member.assignment.topic_partitions} for member in description.members}

    def written_by_partition(self) -> dict[int, int]:
        """Records written to each partition of the target's copy, committed or not (and, with
        exactly-once, the transactions' markers); none while the copy or the target is not there."""
        try:
            ends = self.target.latest([(self.topic, p) for p in range(PARTITIONS)])
        except KafkaException:
            return {}
        return {p: end for (_, p), end in ends.items()}

    def written(self) -> int:
        return sum(self.written_by_partition().values())

    def written_everywhere(self, records: int) -> bool:
        if records <= 0:
            return True
        written = self.written_by_partition()
        return all(written.get(p, 0) >= records for p in range(PARTITIONS))


def new_topic(cluster: dict, prefix: str = "seq", partitions: int = PARTITIONS) -> str:
    topic = unique(prefix)
    create_topic(cluster["bootstrap"], topic, partitions)
    return topic


def produce_sequences(cluster: dict, topic: str, per_partition: int, partitions: int = PARTITIONS,
                      before_round: Callable[[int], object] = lambda start: None) -> None:
    """Partition p gets values b"0" … b"{per_partition-1}" in order, in rounds of ROUND;
    `before_round(start)` runs before the round whose first value is `start`."""
    producer = Producer({"bootstrap.servers": cluster["bootstrap"], "linger.ms": 5, "enable.idempotence": True})
    for start in range(0, per_partition, ROUND):
        before_round(start)
        for seq in range(start, min(per_partition, start + ROUND)):
            for p in range(partitions):
                producer.produce(topic, str(seq).encode(), f"k{seq}".encode(), partition=p,
                                 headers=[("seq", str(seq).encode())])
            producer.poll(0)
        producer.flush(60)  # a round delivered before the next: the local queue never overflows


def produce_in_background(cluster: dict, topic: str, per_partition: int, in_step_with: Progress,
                          rounds_ahead: int = 1, released: threading.Event | None = None) -> threading.Thread:
    """Sends a round only once the copy, on every partition, is at most `rounds_ahead` rounds
    behind it, so records keep arriving (and the copy stays in flight) through every step of a
    test however fast or slow the machine: each step happens to a copy under way, and a
    partition that nobody copies (its owner dead or frozen) holds the producer back until it
    moves again. Once `released` is set, the rest is sent as fast as the source takes it."""
    def in_step(start: int) -> None:
        until(lambda: (released is not None and released.is_set())
              or in_step_with.written_everywhere(start - rounds_ahead * ROUND), 300,
              f"the copy {rounds_ahead} round(s) behind the round from {start}")

    thread = threading.Thread(target=produce_sequences, args=(cluster, topic, per_partition),
                              kwargs={"before_round": in_step}, daemon=True)
    thread.start()
    return thread


class TargetReader:
    """Everything copied to a target topic, as a read_committed consumer sees it, by partition."""

    def __init__(self, cluster: dict, topic: str, partitions: int = PARTITIONS) -> None:
        self.consumer = Consumer({"bootstrap.servers": cluster["bootstrap"], "group.id": unique("reader"),
                                  "isolation.level": "read_committed", "enable.auto.commit": False,
                                  "enable.partition.eof": True})
        self.cluster = Cluster({"bootstrap.servers": cluster["bootstrap"]})
        self.topic, self.partitions = topic, partitions
        self.assigned = False
        self.values: dict[int, list[int]] = defaultdict(list)
        self.reached: dict[int, int] = {}  # per partition, the offset at which it last reported its end

    def _assign(self) -> bool:
        if not self.assigned:
            metadata = self.consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
            if metadata is None or metadata.error is not None:
                return False  # not created by the replicator yet
            self.consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(self.partitions)])
            self.assigned = True
        return True

    def read(self) -> int:
        """What has arrived, waiting a moment for more when nothing has."""
        if not self._assign():
            return 0
        read = 0
        for message in self.consumer.consume(10_000, 0.2):
            if message.error() is not None:
                if message.error().code() != KafkaError._PARTITION_EOF:
                    raise AssertionError(message.error().str())
                self.reached[message.partition()] = message.offset()
                continue
            self.values[message.partition()].append(int(message.value()))
            read += 1
        return read

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.values.values())

    def wait_until(self, condition: Callable[[], object], timeout: float, what: str,
                   workers: Workers | None = None) -> None:
        until(lambda: self.read() >= 0 and condition(), timeout,
              lambda: f"{what}: {self.total} records copied\n{workers.logs() if workers else ''}", every=0)

    def wait_for(self, total: int, timeout: float, workers: Workers | None = None) -> None:
        self.wait_until(lambda: self.total >= total, timeout, f"{total} records", workers)
        self.read_to_end()  # anything beyond the expected total (duplicates) shows up too

    def read_to_end(self, timeout: float = 120) -> None:
        """Reads every partition up to its end as the target has it now (with read_committed, once
        any transaction open now has been committed or aborted)."""
        ends = self.cluster.latest([(self.topic, p) for p in range(self.partitions)])
        self.wait_until(lambda: all(self.reached.get(p, -1) >= end for (_, p), end in ends.items()), timeout,
                        f"the end of every partition ({ends})")

    def close(self) -> None:
        self.consumer.close()


def assert_exactly_once(reader: TargetReader, per_partition: int) -> None:
    for p in range(reader.partitions):
        got = reader.values[p]
        assert got == list(range(per_partition)), (
            f"partition {p}: {len(got)} records, {len(got) - len(set(got))} duplicates, "
            f"{per_partition - len(set(got))} missing, in order: {got == sorted(got)}")


def assert_nothing_missing(reader: TargetReader, per_partition: int) -> None:
    for p in range(reader.partitions):
        missing = set(range(per_partition)) - set(reader.values[p])
        assert not missing, f"partition {p}: {len(missing)} records missing, e.g. {sorted(missing)[:5]}"
