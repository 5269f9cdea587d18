"""Test harness for the replicator on the sandbox's two clusters: sequence-numbered records
into the source, worker processes started and killed like an operator (or a crash) would,
and the target read back with read_committed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from backend.replicator.config import WorkerConfig, consumer_group
from tests.kafka.conftest import create_topic

STREAMHQ = str(Path(sys.executable).with_name("streamhq"))
PARTITIONS = 6


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
        self._supervising = threading.Event()
        if restart:
            self._supervising.set()
            threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        while self._supervising.is_set():
            for slot, process in list(self.processes.items()):
                if process.poll() is not None and self._supervising.is_set():
                    self.restarts += 1
                    self.start(slot)
            time.sleep(0.5)

    def start(self, slot: str) -> subprocess.Popen:
        log = (self.directory / f"worker-{slot}.log").open("ab")
        process = subprocess.Popen([STREAMHQ, "worker", "--app", self.config.app, "--config", str(self.file),
                                    "--worker-id", slot], stdout=log, stderr=subprocess.STDOUT)
        self.processes[slot] = process
        return process

    def kill(self, slot: str) -> None:
        process = self.processes.pop(slot)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        self._supervising.clear()
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


def new_topic(cluster: dict, prefix: str = "seq", partitions: int = PARTITIONS) -> str:
    topic = unique(prefix)
    create_topic(cluster["bootstrap"], topic, partitions)
    return topic


def produce_sequences(cluster: dict, topic: str, per_partition: int, partitions: int = PARTITIONS,
                      pace: float = 0.0) -> None:
    """Partition p gets values b"0" … b"{per_partition-1}" in order; `pace` seconds between rounds of 1,000."""
    producer = Producer({"bootstrap.servers": cluster["bootstrap"], "linger.ms": 5, "enable.idempotence": True})
    for start in range(0, per_partition, 1000):
        for seq in range(start, min(per_partition, start + 1000)):
            for p in range(partitions):
                producer.produce(topic, str(seq).encode(), f"k{seq}".encode(), partition=p,
                                 headers=[("seq", str(seq).encode())])
            producer.poll(0)
        if pace:
            time.sleep(pace)
    producer.flush(60)


def produce_in_background(cluster: dict, topic: str, per_partition: int, pace: float) -> threading.Thread:
    thread = threading.Thread(target=produce_sequences, args=(cluster, topic, per_partition), kwargs={"pace": pace})
    thread.start()
    return thread


class TargetReader:
    """Everything copied to a target topic, as a read_committed consumer sees it, by partition."""

    def __init__(self, cluster: dict, topic: str, partitions: int = PARTITIONS) -> None:
        self.consumer = Consumer({"bootstrap.servers": cluster["bootstrap"], "group.id": unique("reader"),
                                  "isolation.level": "read_committed", "enable.auto.commit": False,
                                  "enable.partition.eof": True})
        self.topic, self.partitions = topic, partitions
        self.assigned = False
        self.values: dict[int, list[int]] = defaultdict(list)
        self.messages: list = []
        self.keep_messages = False

    def _assign(self) -> bool:
        if not self.assigned:
            metadata = self.consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
            if metadata is None or metadata.error is not None:
                return False  # not created by the replicator yet
            self.consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(self.partitions)])
            self.assigned = True
        return True

    def drain(self, seconds: float = 1.0) -> int:
        if not self._assign():
            time.sleep(seconds)
            return 0
        read = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self.consumer.consume(10_000, 0.2):
                if message.error() is not None:
                    if message.error().code() != KafkaError._PARTITION_EOF:
                        raise AssertionError(message.error().str())
                    continue
                self.values[message.partition()].append(int(message.value()))
                if self.keep_messages:
                    self.messages.append(message)
                read += 1
        return read

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.values.values())

    def wait_for(self, total: int, timeout: float, workers: Workers | None = None) -> None:
        deadline = time.monotonic() + timeout
        while self.total < total:
            if time.monotonic() > deadline:
                logs = workers.logs() if workers else ""
                raise AssertionError(f"{self.total} of {total} records copied after {timeout:.0f}s\n{logs}")
            self.drain()
        self.drain(2.0)  # anything beyond the expected total (duplicates) shows up too

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
