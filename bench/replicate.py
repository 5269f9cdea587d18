"""Kafka-to-Kafka replication: this project's replicator against MirrorMaker 2 and a bare librdkafka loop.

One run on the sandbox's two real Kafka clusters (`source`, `target`) compares four contenders:

  streamhq at-least-once   `streamhq worker` processes (one per --workers), exactly_once=False
  streamhq exactly-once    the same with exactly_once=True
  MirrorMaker 2            dedicated mode (org.apache.kafka.connect.mirror.MirrorMaker), A->B, tasks.max = partitions
  raw librdkafka loop      confluent-kafka consume -> produce, no transactions, librdkafka's defaults

Each contender gets a fresh source topic (6 partitions) filled with N records of 1 KiB before it starts, and a
fresh target topic of the same name (message.timestamp.type=LogAppendTime, so a copy's timestamp is when it
landed). Then:

  throughput   N / (the moment a read_committed reader can see all N copies - the first copy's append time): the
               copy rate of a backlog. Start-up (process start to the first copy) is shown apart.
  latency      once caught up, --latency-records records at a steady --latency-rate go into the source topic with
               their send time in a header, and are read back from the target (read_committed): p99 of
               arrival - send.
  memory       peak RSS of the contender's processes together (every worker, the MM2 JVM), sampled every 0.2 s.
  correctness  after it stopped, the target is read whole (read_committed): every source record (its key is its
               sequence number) must be there, at least once or, for exactly-once, exactly once.

    .venv/bin/python bench/replicate.py [--home .streamhq] [--records 1000000 | --quick] [--workers CORES]
                                        [--contenders alo,eos,mm2,raw] [--latency-records 5000] [--latency-rate 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    IsolationLevel,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

# Nothing from `backend` is imported at the top: the raw loop's processes run this same file and must stay
# bare confluent-kafka processes (backend's imports add some 20 MiB of RSS to a process).

PARTITIONS = 6
RECORD_BYTES = 1024
KEY = struct.Struct(">Q")  # a record's key is its sequence number: the check can tell which records arrived
SENT_HEADER = "bench-sent-ns"  # a latency probe's send time, nanoseconds since the epoch
SAMPLE_SECONDS = 0.2
POLL_SECONDS = 0.05  # how often the target is asked whether the copy is complete
STOP_GRACE = 30.0
TIMES = "\N{MULTIPLICATION SIGN}"  # the ratios: "1.00" TIMES
STREAMHQ = str(Path(sys.executable).with_name("streamhq"))
# As bin/connect-mirror-maker.sh and bin/kafka-run-class.sh of the Kafka distribution start MirrorMaker 2.
MM2_JVM_OPTIONS = ["-Xms256M", "-Xmx2G", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                   "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
                   "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true"]


# --- the raw loop (a child process) ------------------------------------------------------------------------------


def raw_loop(argv: list[str]) -> int:
    """The baseline: consume from the source, produce each record to the same partition of the target, nothing
    else (librdkafka's defaults: auto-commit on the source, linger.ms 5, acks all, no idempotence)."""
    parser = argparse.ArgumentParser(prog="replicate.py raw-loop")
    for name in ("--source", "--target", "--topic", "--group"):
        parser.add_argument(name, required=True)
    args = parser.parse_args(argv)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    consumer = Consumer({"bootstrap.servers": args.source, "group.id": args.group, "auto.offset.reset": "earliest"})
    producer = Producer({"bootstrap.servers": args.target})
    consumer.subscribe([args.topic])
    while not stopping.is_set():
        for message in consumer.consume(10_000, 0.1):
            if message.error() is not None:
                continue
            while True:
                try:
                    producer.produce(args.topic, message.value(), message.key(), partition=message.partition(),
                                     headers=message.headers())
                    break
                except BufferError:  # the target is slower than the source: wait for room
                    producer.poll(0.05)
        producer.poll(0)
    producer.flush(STOP_GRACE)
    consumer.close()
    return 0


# --- Kafka helpers -----------------------------------------------------------------------------------------------


@dataclass
class Clusters:
    source: str  # bootstrap servers
    target: str
    admins: dict[str, AdminClient] = field(default_factory=dict, repr=False)

    def admin(self, side: str) -> AdminClient:
        """One client per cluster for the whole run: a client dropped with requests in flight never answers them
        (and librdkafka complains about it on stderr)."""
        if side not in self.admins:
            self.admins[side] = AdminClient({"bootstrap.servers": getattr(self, side)})
        return self.admins[side]


def create_topic(admin: AdminClient, topic: str, config: dict[str, str]) -> None:
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1, config=config)]).values():
        future.result(30)


def delete_topics(admin: AdminClient, topics: list[str]) -> None:
    if not topics:
        return
    for topic, future in admin.delete_topics(topics, operation_timeout=30).items():
        try:
            future.result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                print(f"  (could not delete topic {topic}: {exc.args[0].str()})")


def topic_names(admin: AdminClient) -> set[str]:
    return set(admin.list_topics(timeout=30).topics)


def visible_records(admin: AdminClient, topic: str) -> int:
    """The records a read_committed reader can see, from the last stable offsets: exact for a topic written
    without transactions (no commit markers take offsets)."""
    request = {TopicPartition(topic, p): OffsetSpec.latest() for p in range(PARTITIONS)}
    answers = admin.list_offsets(request, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=10)
    return sum(future.result(10).offset for future in answers.values())


def fill(bootstrap: str, topic: str, first_key: int, count: int) -> None:
    """Produces `count` records of RECORD_BYTES, keys first_key.., spread evenly over the partitions."""
    failures: list[KafkaError] = []

    def delivered(err: KafkaError | None, _: object) -> None:
        if err is not None:
            failures.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "on_delivery": delivered})
    value = os.urandom(RECORD_BYTES)  # incompressible; no contender compresses anyway
    for key in range(first_key, first_key + count):
        while True:
            try:
                producer.produce(topic, value, KEY.pack(key), partition=key % PARTITIONS)
                break
            except BufferError:
                producer.poll(0.1)
        if key % 10_000 == 0:
            producer.poll(0)
    if producer.flush(120) > 0 or failures:
        raise RuntimeError(f"filling {topic} failed: {failures[:1] or 'deliveries still pending after 120 s'}")


# --- processes and their memory ----------------------------------------------------------------------------------


def spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """In its own session: a Ctrl-C reaches the bench only, which then stops its processes in order. Through
    `setpriv --pdeathsig` where there is one (it execs: same pid): should the bench be killed outright, the
    kernel still sends them SIGTERM."""
    orphan_guard = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
    with log.open("ab") as out:
        return subprocess.Popen([*orphan_guard, *command], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every process group, SIGKILL to those still there after STOP_GRACE seconds."""
    for process in processes:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Sampler:
    """Every SAMPLE_SECONDS, the RSS of the given processes and all their descendants, summed; keeps the peak,
    and each process's last CPU time."""

    def __init__(self, pids: list[int]) -> None:
        self.roots = []
        for pid in pids:
            with suppress(psutil.NoSuchProcess):  # died at once: wait_for_copies reports it
                self.roots.append(psutil.Process(pid))
        self.peak_rss = 0
        self.cpu: dict[int, float] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.sample()
        while not self._stopping.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        total = 0
        for root in self.roots:
            with suppress(psutil.NoSuchProcess):
                for process in [root, *root.children(recursive=True)]:
                    with suppress(psutil.NoSuchProcess):
                        total += process.memory_info().rss
                        times = process.cpu_times()
                        self.cpu[process.pid] = times.user + times.system
        self.peak_rss = max(self.peak_rss, total)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


def log_tail(logs: list[Path], lines: int = 15) -> str:
    parts = []
    for log in logs:
        text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else ["(no log)"]
        parts.append(f"--- last lines of {log}:\n" + "\n".join(text))
    return "\n".join(parts)


# --- the contenders ----------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What every contender shares in one bench run."""

    clusters: Clusters
    workdir: Path
    run_id: str
    workers: int


class Contender:
    key = ""
    exactly_once = False

    def __init__(self, run: Run) -> None:
        self.run = run
        self.topic = f"bench-replicate-{run.run_id}-{self.key}"
        self.processes: list[subprocess.Popen[bytes]] = []  # each one as soon as it is started: all get stopped
        self.logs: list[Path] = []

    @property
    def label(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        """Starts its processes, with `spawn`."""
        raise NotImplementedError

    def spawn(self, command: list[str], log_name: str) -> None:
        self.logs.append(self.run.workdir / log_name)
        self.processes.append(spawn(command, self.logs[-1]))

    def copied(self, target: AdminClient) -> int:
        """How many of the source's records a read_committed reader of the target can see."""
        return visible_records(target, self.topic)

    def cleanup(self, source: AdminClient, target: AdminClient) -> None:
        delete_topics(source, [self.topic])
        delete_topics(target, [self.topic])

    def notes(self) -> str | None:
        """Anything about how it ran that the report should say."""
        return None

    def groups(self) -> dict[str, list[str]]:
        """Consumer groups it leaves behind, per side: deleted at the end of the bench, when the static members
        of streamhq's workers have expired."""
        return {}


class Streamhq(Contender):
    def __init__(self, run: Run) -> None:
        super().__init__(run)
        from backend.replicator.config import consumer_group

        self.app = f"bench-{run.run_id}-{self.key}"
        self.group = consumer_group(self.app)

    @property
    def label(self) -> str:
        mode = "exactly-once" if self.exactly_once else "at-least-once"
        return f"streamhq worker x{self.run.workers}, {mode}"

    def start(self) -> None:
        from backend.replicator.config import WorkerConfig

        config = WorkerConfig(
            app=self.app, generation=1, group=self.group,
            source={"bootstrap.servers": self.run.clusters.source},
            target={"bootstrap.servers": self.run.clusters.target},
            topics=[self.topic], exactly_once=self.exactly_once,
            auto_create_topics=True, auto_create_control_topics=True, workers=self.run.workers,
        )
        path = self.run.workdir / f"{self.app}.json"
        path.write_text(config.model_dump_json(indent=2))
        for worker in range(self.run.workers):
            self.spawn([STREAMHQ, "worker", "--app", self.app, "--config", str(path), "--worker-id", str(worker)],
                       f"{self.app}-{worker}.log")

    def cleanup(self, source: AdminClient, target: AdminClient) -> None:
        from backend.replicator.config import control_topic

        super().cleanup(source, target)
        delete_topics(target, [control_topic(self.app)])

    def groups(self) -> dict[str, list[str]]:
        return {"source": [self.group], "target": [self.group]}


class StreamhqAtLeastOnce(Streamhq):
    key = "alo"


class StreamhqExactlyOnce(Streamhq):
    key = "eos"
    exactly_once = True

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.positions_reader: Consumer | None = None  # one for the whole wait: a client per poll would cost CPU

    def copied(self, target: AdminClient) -> int:
        # Commit markers take offsets, so offsets do not count records here. The worker commits each partition's
        # next source offset in the same transaction as its copies: their sum is what a read_committed reader sees.
        if self.positions_reader is None:
            self.positions_reader = Consumer({"bootstrap.servers": self.run.clusters.target, "group.id": self.group,
                                              "isolation.level": "read_committed", "enable.auto.commit": False})
        partitions = [TopicPartition(self.topic, p) for p in range(PARTITIONS)]
        return sum(max(0, position.offset) for position in self.positions_reader.committed(partitions, timeout=10))

    def cleanup(self, source: AdminClient, target: AdminClient) -> None:
        if self.positions_reader is not None:
            self.positions_reader.close()
        super().cleanup(source, target)


class MirrorMaker2(Contender):
    key = "mm2"

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.before: dict[str, set[str]] = {}

    @property
    def label(self) -> str:
        return f"MirrorMaker 2, dedicated, {PARTITIONS} tasks"

    def properties(self) -> dict[str, object]:
        internal = f"bench-replicate-{self.run.run_id}-mm2"
        return {
            "clusters": "A, B",
            "A.bootstrap.servers": self.run.clusters.source,
            "B.bootstrap.servers": self.run.clusters.target,
            "A->B.enabled": "true",
            "B->A.enabled": "false",
            "A->B.topics": self.topic,
            "tasks.max": PARTITIONS,
            # The target topic keeps the source topic's name, as with the other contenders.
            "replication.policy.class": "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
            "sync.topic.acls.enabled": "false",
            # One broker per cluster.
            "replication.factor": 1,
            "checkpoints.topic.replication.factor": 1,
            "heartbeats.topic.replication.factor": 1,
            "offset-syncs.topic.replication.factor": 1,
            "offset.storage.replication.factor": 1,
            "status.storage.replication.factor": 1,
            "config.storage.replication.factor": 1,
            # This run's own Connect group and internal topics: the defaults (A-mm2, mm2-*.A.internal) are shared
            # with any other MirrorMaker 2 that calls its source A, and a stale one's state would leak in.
            "B.group.id": internal,
            "offset.storage.topic": f"{internal}-offsets",
            "config.storage.topic": f"{internal}-configs",
            "status.storage.topic": f"{internal}-status",
        }

    def start(self) -> None:
        from backend.sandbox.components import LOG4J2
        from backend.sandbox.downloads import kafka_libs

        self.before = {side: topic_names(self.run.clusters.admin(side)) for side in ("source", "target")}
        config = self.run.workdir / "mm2.properties"
        config.write_text("".join(f"{key} = {value}\n" for key, value in self.properties().items()))
        log4j = self.run.workdir / "mm2-log4j2.properties"
        # Connect's Worker at INFO: its "Creating task" lines show how many tasks tasks.max really gave.
        log4j.write_text(LOG4J2 + "logger.worker.name = org.apache.kafka.connect.runtime.Worker\n"
                                  "logger.worker.level = INFO\n")
        # --clusters B: only the herder that writes to B (the A->B flow) runs, as a dedicated MM2 near B would.
        # The file goes first: --clusters takes every argument after it.
        command = ["java", *MM2_JVM_OPTIONS, f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{kafka_libs()}/*",
                   "org.apache.kafka.connect.mirror.MirrorMaker", str(config), "--clusters", "B"]
        self.spawn(command, "mm2.log")

    def cleanup(self, source: AdminClient, target: AdminClient) -> None:
        super().cleanup(source, target)
        # MM2's own topics (its Connect topics, heartbeats, checkpoints, offset-syncs), if this run made them.
        for side, admin in (("source", source), ("target", target)):
            made = topic_names(admin) - self.before.get(side, set())
            delete_topics(admin, sorted(t for t in made if t.startswith(f"bench-replicate-{self.run.run_id}-mm2")
                                        or t == "heartbeats" or t.endswith(".checkpoints.internal")
                                        or t.startswith("mm2-offset-syncs.")))

    def notes(self) -> str | None:
        log = self.logs[0].read_text(errors="replace") if self.logs and self.logs[0].exists() else ""
        tasks = sorted(set(re.findall(r"Creating task (MirrorSourceConnector-\d+)", log)))
        return f"ran {len(tasks)} MirrorSourceConnector task(s) (from its log), Connect's default client settings"

    def groups(self) -> dict[str, list[str]]:
        return {"target": [f"bench-replicate-{self.run.run_id}-mm2"]}


class RawLoop(Contender):
    key = "raw"

    @property
    def group(self) -> str:
        return f"bench-replicate-{self.run.run_id}-raw"

    @property
    def label(self) -> str:
        return f"raw librdkafka loop x{self.run.workers}"

    def start(self) -> None:
        for n in range(self.run.workers):  # one consumer group: Kafka spreads the partitions over them
            self.spawn([sys.executable, __file__, "raw-loop", "--source", self.run.clusters.source,
                        "--target", self.run.clusters.target, "--topic", self.topic, "--group", self.group],
                       f"raw-{n}.log")

    def groups(self) -> dict[str, list[str]]:
        return {"source": [self.group]}


CONTENDERS: dict[str, type[Contender]] = {
    c.key: c for c in (StreamhqAtLeastOnce, StreamhqExactlyOnce, MirrorMaker2, RawLoop)}


# --- measuring one contender -------------------------------------------------------------------------------------


@dataclass
class Copies:
    """The target topic read whole, read_committed, after the contender stopped."""

    total: int = 0  # copies of the N backlog records, duplicates included
    distinct: int = 0  # backlog records with at least one copy
    probes: int = 0  # copies of the latency probes
    first_append: float | None = None  # the first copy's LogAppendTime, seconds since the epoch


@dataclass
class Result:
    key: str
    label: str
    exactly_once: bool
    records: int
    startup: float | None = None  # process start to the first copy, seconds
    copy_seconds: float | None = None  # first copy to all N visible
    peak_rss: int = 0
    cpu_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    probes_sent: int = 0
    copies: Copies | None = None
    notes: str | None = None
    failure: str | None = None

    @property
    def records_per_second(self) -> float | None:
        return self.records / self.copy_seconds if self.copy_seconds else None

    @property
    def mb_per_second(self) -> float | None:
        rate = self.records_per_second
        return rate * RECORD_BYTES / 1e6 if rate else None

    @property
    def rss_mib(self) -> float | None:
        return self.peak_rss / 2**20 if self.peak_rss else None

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies_ms, 99) if self.latencies_ms else None

    @property
    def correct(self) -> bool:
        c = self.copies
        if c is None or c.distinct < self.records:
            return False
        return c.total == self.records if self.exactly_once else c.total >= self.records


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def wait_for_copies(contender: Contender, target: AdminClient, records: int, timeout: float) -> float:
    """The moment (seconds since the epoch) all `records` copies were seen; fails if a process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = contender.copied(target)
        now = time.time()
        if seen >= records:
            return now
        for process in contender.processes:
            if process.poll() is not None:
                raise RuntimeError(f"process {process.pid} exited with code {process.returncode} after copying"
                                   f" {seen:,} of {records:,}\n{log_tail(contender.logs)}")
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"not all {records:,} records copied after {timeout:.0f} s (seen:"
                       f" {contender.copied(target):,})\n{log_tail(contender.logs)}")


def send_probes(bootstrap: str, topic: str, first_key: int, count: int, rate: float) -> None:
    """`count` records at a steady `rate`, each stamped with its send time just before it is handed to the
    producer (linger.ms 0: it goes out at once)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    value = os.urandom(RECORD_BYTES)
    started = time.monotonic()
    for n in range(count):
        ahead = started + n / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        producer.produce(topic, value, KEY.pack(first_key + n), partition=n % PARTITIONS,
                         headers=[(SENT_HEADER, time.time_ns().to_bytes(8, "big"))])
        producer.poll(0)
    producer.flush(30)


def measure_latency(clusters: Clusters, topic: str, first_key: int, count: int, rate: float,
                    group: str) -> list[float]:
    """Sends the probes into the source topic and reads them back from the target: latencies in ms, one per
    probe that arrived (a duplicate copy counts once, at its first arrival)."""
    target = clusters.admin("target")
    reader = Consumer({"bootstrap.servers": clusters.target, "group.id": group, "isolation.level": "read_committed",
                       "enable.auto.commit": False, "fetch.wait.max.ms": 10})
    # From the current end, as explicit offsets: a reader left to resolve "the end" itself could do so after the
    # first probes had landed, and miss them.
    ends = {tp.partition: future.result(10).offset for tp, future in target.list_offsets(
        {TopicPartition(topic, p): OffsetSpec.latest() for p in range(PARTITIONS)}).items()}
    reader.assign([TopicPartition(topic, p, offset) for p, offset in ends.items()])
    sender = threading.Thread(target=send_probes, args=(clusters.source, topic, first_key, count, rate))
    arrived: dict[int, float] = {}
    sender.start()
    try:
        grace_ends = None
        while len(arrived) < count:
            messages = reader.consume(1000, 0.05)
            now = time.time_ns()
            for message in messages:
                headers = dict(message.headers() or []) if message.error() is None else {}
                if SENT_HEADER in headers:
                    key = KEY.unpack(message.key())[0]
                    arrived.setdefault(key, (now - int.from_bytes(headers[SENT_HEADER], "big")) / 1e6)
            if not sender.is_alive():
                grace_ends = grace_ends or time.monotonic() + 30  # the last probes' copies may still be coming
                if time.monotonic() > grace_ends:
                    break
    finally:
        sender.join()
        reader.close()
    return list(arrived.values())


def read_copies(bootstrap: str, topic: str, records: int, group: str) -> Copies:
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_committed",
                       "enable.auto.commit": False, "enable.partition.eof": True})
    reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    seen = bytearray(records)  # copies of each backlog record so far, up to 255
    copies = Copies()
    first_append: dict[int, float] = {}
    at_end: set[int] = set()
    deadline = time.monotonic() + 120 + records / 10_000
    try:
        while len(at_end) < PARTITIONS and time.monotonic() < deadline:
            for message in reader.consume(10_000, 1.0):
                err = message.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        at_end.add(message.partition())
                    continue
                first_append.setdefault(message.partition(), message.timestamp()[1] / 1000)
                key = KEY.unpack(message.key())[0]
                if key >= records:
                    copies.probes += 1
                    continue
                copies.total += 1
                if seen[key] < 255:
                    seen[key] += 1
    finally:
        reader.close()
    if len(at_end) < PARTITIONS:
        raise RuntimeError(f"reading the target back did not reach the end of every partition in time ({at_end})")
    copies.distinct = records - seen.count(0)
    copies.first_append = min(first_append.values(), default=None)
    return copies


def bench_one(contender: Contender, args: argparse.Namespace) -> Result:
    run = contender.run
    result = Result(contender.key, contender.label, contender.exactly_once, args.records)
    source, target = run.clusters.admin("source"), run.clusters.admin("target")
    reader_group = f"bench-replicate-{run.run_id}-reader"  # assign() only: never joined, never committed
    print(f"\n{contender.label}: topic {contender.topic}", flush=True)
    try:
        create_topic(source, contender.topic, {})
        # LogAppendTime: each copy's timestamp is when it reached the target, which dates the first copy exactly.
        create_topic(target, contender.topic, {"message.timestamp.type": "LogAppendTime"})
        filling = time.perf_counter()
        fill(run.clusters.source, contender.topic, 0, args.records)
        print(f"  source filled: {args.records:,} records in {time.perf_counter() - filling:.1f} s", flush=True)

        sampler: Sampler | None = None
        try:
            started = time.time()
            contender.start()
            sampler = Sampler([p.pid for p in contender.processes])
            done = wait_for_copies(contender, target, args.records, timeout=120 + args.records / 2_000)
            print(f"  all copied {done - started:.1f} s after start; latency: {args.latency_records:,} records at"
                  f" {args.latency_rate:,.0f}/s", flush=True)
            result.probes_sent = args.latency_records
            result.latencies_ms = measure_latency(run.clusters, contender.topic, args.records, args.latency_records,
                                                  args.latency_rate, reader_group)
        finally:
            if sampler is not None:
                sampler.stop()
                result.peak_rss, result.cpu_seconds = sampler.peak_rss, sum(sampler.cpu.values())
            stop(contender.processes)

        result.copies = read_copies(run.clusters.target, contender.topic, args.records, reader_group)
        if result.copies.first_append is not None:
            result.startup = result.copies.first_append - started
            result.copy_seconds = done - result.copies.first_append
    except (RuntimeError, KafkaException, TimeoutError) as exc:
        result.failure = str(exc)
        print(f"  FAILED: {exc}", flush=True)
    finally:
        result.notes = contender.notes()
        contender.cleanup(source, target)
    return result


# --- report ------------------------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ram = psutil.virtual_memory().total / 2**30
    return (f"{model}, {os.cpu_count()} cores ({usable} usable), {ram:.1f} GiB RAM;"
            f" {platform.system()} {platform.release()}; Python {platform.python_version()}")


def ratio(value: float | None, reference: float | None) -> str:
    return f"{value / reference:.2f}{TIMES}" if value is not None and reference else "-"


def figure(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "missed")


# The table's figures: (heading, Result attribute, decimals).
FIGURES = (("records/s", "records_per_second", 0), ("MB/s", "mb_per_second", 1),
           ("peak RSS MiB", "rss_mib", 1), ("p99 ms", "p99_ms", 1))


def report(args: argparse.Namespace, results: list[Result], clusters: Clusters) -> None:
    from backend.sandbox.downloads import KAFKA_VERSION

    done = {r.key: r for r in results if r.failure is None}
    mm2, alo, eos = done.get("mm2"), done.get("alo"), done.get("eos")
    print()
    print(f"machine:   {machine()}")
    print(f"kafka:     Apache Kafka {KAFKA_VERSION}: the sandbox's brokers (one per cluster; source {clusters.source},"
          f" target {clusters.target}) and MirrorMaker 2 from the same jars ({' '.join(MM2_JVM_OPTIONS[:2])}, as its"
          " launcher script sets)")
    print(f"workload:  {args.records:,} records x {RECORD_BYTES} B values (+{KEY.size} B key) over {PARTITIONS}"
          f" partitions, pre-produced per contender; latency: {args.latency_records:,} records at"
          f" {args.latency_rate:,.0f}/s once caught up")
    print(f"processes: streamhq and the raw loop run {args.workers} process(es) each (one consumer group);"
          " MirrorMaker 2 runs one JVM")
    print(f"load:      {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15-minute load average at the end)")
    print()
    heading = f"{'contender':<36}" + "".join(f" {name:>12} {'':>6}" for name, _, _ in FIGURES) + "  copies"
    print(heading)
    print("-" * len(heading))
    for r in results:
        if r.failure is not None:
            print(f"{r.label:<36} failed: {r.failure.splitlines()[0]}")
            continue
        cells = "".join(f" {figure(getattr(r, attr), digits):>12}"
                        f" {ratio(getattr(r, attr), mm2 and getattr(mm2, attr)):>6}" for _, attr, digits in FIGURES)
        print(f"{r.label:<36}{cells}  {'ok' if r.correct else 'WRONG'}")
    print(f"  {TIMES} = ratio to MirrorMaker 2 (higher is better for records/s and MB/s, lower for RSS and p99);"
          " MB = 10^6 bytes of values")
    print("  records/s = N / (all N copies visible to a read_committed reader - the first copy's LogAppendTime);"
          " start-up is apart, below")
    short = [r.label for r in done.values() if r.copy_seconds is not None and r.copy_seconds < 40 * POLL_SECONDS]
    if short:
        print(f"  rough: copies that took under {40 * POLL_SECONDS:.0f} s ({'; '.join(short)}) are timed by polling"
              f" every {POLL_SECONDS * 1000:.0f} ms; more --records give firm figures")
    print()
    for r in results:
        print(f"{r.label}:")
        if r.failure is not None:
            print(f"  FAILED: {r.failure}")
            continue
        c = r.copies
        assert c is not None
        wanted = f"== {r.records:,}" if r.exactly_once else f">= {r.records:,}"
        latency = (f"p50 {percentile(r.latencies_ms, 50):.1f} ms, p99 {r.p99_ms:.1f} ms, max"
                   f" {max(r.latencies_ms):.1f} ms" if r.latencies_ms else "no probe arrived")
        print(f"  start-up {figure(r.startup, 1)} s (process start to first copy), copy {figure(r.copy_seconds, 2)} s,"
              f" CPU {r.cpu_seconds:.1f} s (its processes, whole run)")
        print(f"  latency {latency}; {len(r.latencies_ms):,} of {r.probes_sent:,} probes arrived")
        if r.notes:
            print(f"  {r.notes}")
        print(f"  copies: {c.total:,} read_committed (wanted {wanted}), {c.distinct:,} distinct,"
              f" {r.records - c.distinct:,} missing, {c.total - c.distinct:,} duplicates:"
              f" {'ok' if r.correct else 'WRONG'}")

    def at_least(value: float | None, reference: float | None, factor: float) -> tuple[str, bool | None]:
        if value is None or not reference:
            return "-", None
        return f"{value / reference:.2f}{TIMES}", value >= factor * reference

    print()
    targets = [(f"at-least-once records/s >= 1.0{TIMES} MirrorMaker 2's",
                *at_least(alo and alo.records_per_second, mm2 and mm2.records_per_second, 1.0)),
               (f"exactly-once records/s >= 0.8{TIMES} at-least-once's",
                *at_least(eos and eos.records_per_second, alo and alo.records_per_second, 0.8))]
    ours = [r for r in (alo, eos) if r is not None and r.rss_mib]
    if ours and mm2 is not None and mm2.rss_mib:
        targets.append(("our peak RSS below MirrorMaker 2's",
                        " and ".join(f"{r.key} {r.rss_mib:.0f}" for r in ours) + f" vs {mm2.rss_mib:.0f} MiB",
                        all(r.rss_mib < mm2.rss_mib for r in ours)))
    else:
        targets.append(("our peak RSS below MirrorMaker 2's", "-", None))
    print("targets from the issue:")
    for name, shown, ok in targets:
        print(f"  {name:<48} {verdict(ok):<13} {shown}")
    wrong = [r.label for r in done.values() if not r.correct]
    failed = [r.label for r in results if r.failure is not None]
    print("  correctness (not a target, a precondition):",
          "; ".join([*(f"WRONG copies: {w}" for w in wrong), *(f"failed: {f}" for f in failed)])
          or "every contender copied every record as it promises")


# --- main --------------------------------------------------------------------------------------------------------


def delete_groups(clusters: Clusters, contenders: list[Contender]) -> None:
    """Best effort: a group whose static members have not expired yet (streamhq's workers keep their slot for
    the session timeout) cannot be deleted, and stays until Kafka expires it."""
    for side in ("source", "target"):
        groups = sorted({g for c in contenders for g in c.groups().get(side, [])})
        if groups:
            for future in clusters.admin(side).delete_consumer_groups(groups, request_timeout=10).values():
                with suppress(KafkaException, TimeoutError):
                    future.result(15)


def main() -> None:
    if sys.argv[1:2] == ["raw-loop"]:
        raise SystemExit(raw_loop(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".streamhq"), help="the sandbox's home (as `make run`)")
    parser.add_argument("--records", type=int, default=1_000_000, help="records pre-produced per contender")
    parser.add_argument("--quick", action="store_true", help="50,000 records")
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1),
                        help="streamhq worker processes, and raw loop processes (default: CPU cores)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help=f"comma-separated, of {', '.join(CONTENDERS)}")
    parser.add_argument("--latency-records", type=int, default=5_000)
    parser.add_argument("--latency-rate", type=float, default=2_000.0, help="records per second")
    args = parser.parse_args()
    if args.quick:
        args.records = 50_000
    args.workers = max(1, args.workers)
    unknown = [k for k in args.contenders.split(",") if k not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}")
    # SIGTERM and SIGHUP unwind like a Ctrl-C, so that every process started here is stopped on the way out.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))

    from backend.sandbox import Sandbox

    status = Sandbox(args.home).up()
    if not all(status["clusters"].values()):
        raise SystemExit(f"the sandbox's clusters are not all up: {json.dumps(status['clusters'])}")
    clusters = Clusters(status["clusters"]["source"]["bootstrap"], status["clusters"]["target"]["bootstrap"])
    workdir = Path(tempfile.mkdtemp(prefix="streamhq-bench-replicate-"))
    run = Run(clusters, workdir, uuid.uuid4().hex[:8], args.workers)
    contenders = [CONTENDERS[k](run) for k in args.contenders.split(",")]
    print(f"run {run.run_id}: {args.records:,} records per contender; logs and configs in {workdir}", flush=True)
    results: list[Result] = []
    try:
        for contender in contenders:
            results.append(bench_one(contender, args))
    except (KeyboardInterrupt, SystemExit):
        print(f"\ninterrupted: every process it started is stopped; logs and configs kept in {workdir}")
        raise
    finally:
        delete_groups(clusters, contenders)
    report(args, results, clusters)
    if all(r.failure is None for r in results):
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"\nlogs and configs kept in {workdir}")


if __name__ == "__main__":
    main()
