"""K2K metrics (seed 000 `metrics`), read from Kafka itself so they hold for local and
Kubernetes workers alike (docs/architecture.md, the replication design).

Every few seconds, per app: the source partitions' log-end offsets, the target partitions'
log-end offsets, and the app's positions as committed in its target-side group. Records per
second read are source log-end deltas over time, written are committed-position deltas (the
target's log end also counts transaction markers); lag is source log-end minus committed
position (what is left to copy: nothing is committed on the source, so source-side lag tools
see nothing).
Bytes per second are the records per second times the app's mean record size, from the
counters its workers publish in their heartbeats on the control topic; those heartbeats also
carry the workers' errors. Each collection is published on the feed as `k2k.metrics`."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from backend.clock import utc_now_iso
from backend.environments.models import KafkaConnectionSpec
from backend.k2k.models import (
    DestinationOffsets,
    DestinationPartition,
    DestinationTopic,
    K2KMetrics,
    K2KSpec,
    MetricsSummary,
    SourceOffsets,
    SourcePartition,
    SourceTopic,
    Throughput,
)
from backend.k2k.references import SpecProblem, resolve_kafka
from backend.lrn import kafka_topic_lrn
from backend.replicator.config import WorkerConfig, control_topic
from backend.replicator.offsets import TP, Cluster, GroupPositions
from backend.store import AppRecord, Store
from backend.store.changes import K2K_KIND, METRICS, Change, Publisher

log = logging.getLogger(__name__)


class Heartbeats:
    """The latest heartbeat of each worker of one app, from its control topic."""

    def __init__(self, config: WorkerConfig) -> None:
        self.topic = control_topic(config.app)
        self.consumer = Consumer({**config.target, "group.id": "streamhq-hq", "enable.auto.commit": False,
                                  "enable.partition.eof": False})
        self.consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        self.latest: dict[str, dict[str, Any]] = {}

    def read(self) -> dict[str, dict[str, Any]]:
        for message in self.consumer.consume(1000, 0.2):
            if message.error() is None and message.key():
                try:
                    self.latest[message.key().decode()] = json.loads(message.value())
                except ValueError:
                    continue
        return self.latest

    def close(self) -> None:
        self.consumer.close()


class MetricsCollector:
    def __init__(self, store: Store, publish: Publisher, interval: float) -> None:
        self.store = store
        self.publish = publish
        self.interval = interval
        self._apps: dict[str, tuple[AppRecord, WorkerConfig | None]] = {}
        self._clusters: dict[str, Cluster] = {}
        self._positions: dict[str, GroupPositions] = {}
        self._positions_used: set[str] = set()  # read through in the current round
        self._heartbeats: dict[str, Heartbeats] = {}
        self._latest: dict[str, K2KMetrics] = {}
        self._samples: dict[str, tuple[float, dict[str, int], dict[str, int], int, int]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="k2k-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def track(self, records: dict[str, AppRecord], configs: dict[str, WorkerConfig | None]) -> None:
        with self._lock:
            self._apps = {name: (record, configs.get(name)) for name, record in records.items()}
            for gone in set(self._latest) - set(records):
                self._latest.pop(gone, None)

    def record(self, name: str, metrics: K2KMetrics) -> None:
        """Keeps an app's latest metrics and publishes them as `k2k.metrics`."""
        with self._lock:
            self._latest[name] = metrics
        self.publish(Change(K2K_KIND, METRICS, (name,), metrics, supersedes=True))

    def latest(self, name: str) -> K2KMetrics | None:
        with self._lock:
            return self._latest.get(name)

    def heartbeats(self, app: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            beats = self._heartbeats.get(app)
            return dict(beats.latest) if beats else {}

    @property
    def open_clients(self) -> int:
        """Kafka clients held between rounds: one per cluster, per app's control topic and per
        target connection whose groups are read."""
        return len(self._clusters) + len(self._heartbeats) + len(self._positions)

    def _run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.collect_round()
            self._stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
        for beats in self._heartbeats.values():
            beats.close()
        for positions in self._positions.values():
            positions.close()

    def collect_round(self) -> None:
        """Reads and publishes the metrics of every tracked app, once (on the metrics thread)."""
        with self._lock:
            apps = dict(self._apps)
        self._forget_untracked(apps)
        self._positions_used = set()
        for name, (record, config) in apps.items():
            if config is None or self._stopping.is_set():
                continue
            try:
                metrics = self._collect(record, config)
            except KafkaException as exc:
                metrics = K2KMetrics(state=record.status.get("state", "unknown"), updated_at=utc_now_iso(),
                                     error_message=f"cannot read the app's clusters: {exc.args[0].str()}")
            except SpecProblem as exc:  # its target connection went away since the controller's round
                metrics = K2KMetrics(state=record.status.get("state", "unknown"), updated_at=utc_now_iso(),
                                     error_message=exc.title)
            except Exception as exc:  # a metrics round must never take HQ down
                log.exception("k2k metrics of %s", name)
                metrics = K2KMetrics(state="unknown", updated_at=utc_now_iso(), error_message=str(exc))
            with self._lock:
                deleted = name not in self._apps  # while its metrics were read
            if not deleted:
                self.record(name, metrics)
        for key in set(self._positions) - self._positions_used:  # no app read through it this round
            self._positions.pop(key).close()

    def _forget_untracked(self, apps: dict[str, tuple[AppRecord, WorkerConfig | None]]) -> None:
        """Lets go of what was kept for apps that are gone and clusters no app reads any more:
        each is a Kafka client with its threads and descriptors, and apps come and go."""
        configs = [config for _, config in apps.values() if config is not None]
        clusters = {_cluster_key(side) for config in configs for side in (config.source, config.target)}
        with self._lock:
            gone = [self._heartbeats.pop(name) for name in set(self._heartbeats) - set(apps)]
        for name in set(self._samples) - set(apps):
            del self._samples[name]
        for key in set(self._clusters) - clusters:
            del self._clusters[key]  # an admin client is destroyed with its last reference
        for beats in gone:
            beats.close()

    def _cluster(self, config: dict[str, Any]) -> Cluster:
        key = _cluster_key(config)
        if key not in self._clusters:
            self._clusters[key] = Cluster(config)
        return self._clusters[key]

    def _group_positions(self, connection: KafkaConnectionSpec) -> GroupPositions:
        key = connection.model_dump_json()
        self._positions_used.add(key)
        if key not in self._positions:
            self._positions[key] = GroupPositions(connection)
        return self._positions[key]

    def _collect(self, record: AppRecord, config: WorkerConfig) -> K2KMetrics:
        spec = K2KSpec.model_validate(record.spec)
        source, target = self._cluster(config.source), self._cluster(config.target)
        beats = self._heartbeat_reader(config).read()
        topics = source.matching(config.topics)
        counts = source.partitions(topics)
        tps: list[TP] = [(t, p) for t in topics for p in range(counts.get(t, 0))]
        source_end = source.latest(tps)
        source_start = source.earliest(tps)
        target_counts = target.partitions(topics)
        target_tps = [(t, p) for t, p in tps if p < target_counts.get(t, 0)]
        target_end = target.latest(target_tps)
        target_connection = resolve_kafka(self.store, "spec.targetKafkaLRN", spec.targetKafkaLRN).spec
        committed = self._group_positions(target_connection).committed(config.group)

        stamp, clock = utc_now_iso(), time.monotonic()
        current = [b for b in beats.values() if b.get("generation") == config.generation]
        records_total = sum(b.get("records", 0) for b in current)
        bytes_total = sum(b.get("bytes", 0) for b in current)
        in_sums = {t: sum(source_end[(t, p)] for p in range(counts[t])) for t in topics}
        # Copied = committed positions moving, not the target's log end, which also counts the
        # transaction markers of an exactly-once app (one per partition per commit).
        out_sums = {t: sum(committed.get((t, p), 0) for p in range(counts[t])) for t in topics}
        previous = self._samples.get(record.name)
        self._samples[record.name] = (clock, in_sums, out_sums, records_total, bytes_total)
        record_size = (bytes_total - previous[4]) / max(1, records_total - previous[3]) if previous else 0.0
        if record_size <= 0 and records_total:
            record_size = bytes_total / records_total

        def rate(sums: dict[str, int], index: int, topic: str) -> float:
            if previous is None or topic not in previous[index]:
                return 0.0
            return max(0.0, (sums[topic] - previous[index][topic]) / max(1e-3, clock - previous[0]))

        source_topics, destination_topics = [], []
        for topic in topics:
            rps_in, rps_out = rate(in_sums, 1, topic), rate(out_sums, 2, topic)
            source_topics.append(SourceTopic(
                lrn=kafka_topic_lrn(spec.sourceKafkaLRN, topic), name=topic,
                throughput=Throughput(updated_at=stamp, records_per_second=rps_in,
                                      bytes_per_second=rps_in * record_size),
                offsets=SourceOffsets(updated_at=stamp, partitions=[
                    SourcePartition(partition=p, log_end_offset=source_end[(topic, p)])
                    for p in range(counts[topic])]),
            ))
            destination_topics.append(DestinationTopic(
                lrn=kafka_topic_lrn(spec.targetKafkaLRN, topic), name=topic,
                throughput=Throughput(updated_at=stamp, records_per_second=rps_out,
                                      bytes_per_second=rps_out * record_size),
                offsets=DestinationOffsets(updated_at=stamp, partitions=[
                    DestinationPartition(
                        partition=p, log_end_offset=target_end.get((topic, p), 0),
                        lag=max(0, source_end[(topic, p)] - committed.get((topic, p), source_start[(topic, p)])))
                    for p in range(counts[topic])]),
            ))
        errors = [e for b in current for e in b.get("errors", [])]
        failures = [f"worker {b['worker']}: {b['error']}" for b in current if b.get("error")]
        state = record.status.get("state", "unknown")
        failed_message = record.status.get("statusMessage") if state == "failed" else None
        return K2KMetrics(
            state=state, updated_at=stamp, error_message=failures[-1] if failures else failed_message,
            source_topics=source_topics, destination_topics=destination_topics, errors=sorted(errors)[-20:],
        )

    def _heartbeat_reader(self, config: WorkerConfig) -> Heartbeats:
        beats = self._heartbeats.get(config.app)
        if beats is None:
            beats = self._heartbeats[config.app] = Heartbeats(config)
        return beats


def _cluster_key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def summarize(metrics: K2KMetrics) -> MetricsSummary:
    return MetricsSummary(
        topics_count=len(metrics.source_topics),
        partitions_count=sum(len(t.offsets.partitions) for t in metrics.source_topics),
        total_bytes_per_second_read=sum(t.throughput.bytes_per_second for t in metrics.source_topics),
        total_bytes_per_second_written=sum(t.throughput.bytes_per_second for t in metrics.destination_topics),
        total_records_per_second_read=sum(t.throughput.records_per_second for t in metrics.source_topics),
        total_records_per_second_written=sum(t.throughput.records_per_second for t in metrics.destination_topics),
        total_lag=sum(p.lag for t in metrics.destination_topics for p in t.offsets.partitions),
        state=metrics.state,
        updated_at=metrics.updated_at,
        error_message=metrics.error_message,
    )
