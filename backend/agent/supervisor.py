"""AgentSupervisor: the built-in agent of every environment that has a Kafka connection.

Environments that point at the same cluster (same brokers and credentials) share one watch,
so HQ reads each distinct cluster, Connect cluster and Redpanda Connect instance once per
interval however many environments name it. Probes run on a small thread pool with their
own timeouts; a cluster that is down or slow only delays its own environments, is retried
with exponential backoff, and shows as `agent_connected: false` with the reason in
`status.agent.issues`. Data out is each cluster's consumer groups' progress, with HQ's own K2K
apps' groups counted against their source (backend.agent.reads).

Each cluster's streams and groups are read once per round too (backend/agent/streams_watch.py)
into each naming environment's `StreamLedger` (backend/streams/live.py), likewise.

A Connect cluster is read in one expanded call per round; each environment that names it gets
the reading in its `ConnectorLedger` (backend/connect/live.py), which publishes what changed on
the environment's connector feed, and its `metrics.connect` figures come from the same reading.
The ledger lives in the environment's `AgentContext`, made once and kept while the environment
has a Kafka connection, so a feed outlives the requests that follow it."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from backend.agent.bounds import with_first_distinct
from backend.agent.context import CONSUMER_TTL_SECONDS, SSE_PING_SECONDS, AgentContext, AgentResources
from backend.agent.figures import cluster_metrics
from backend.agent.http_services import CONNECT_WORKERS_ASKED, ConnectReading, ConnectWatch, check_ready
from backend.agent.kafka import (
    ClusterSnapshot,
    admin_client,
    bootstrap_addresses,
    diagnose,
    read_cluster,
    stored_kafka_spec,
)
from backend.agent.publication import HEARTBEAT_SECONDS, StatusPublication
from backend.agent.reads import K2KRead, group_rates, records_out
from backend.agent.streams_watch import StreamsWatch, streams_issues
from backend.agent.upstream import UpstreamPool
from backend.clock import utc_now_iso
from backend.connect.live import ConnectorLedger
from backend.connect.mapping import list_items
from backend.environments.models import (
    AgentCapabilities,
    AgentInfo,
    ConnectClusterSpec,
    KafkaConnectionSpec,
    RedpandaConnectSpec,
)
from backend.lrn import parse_resource_lrn
from backend.replicator.config import consumer_group
from backend.store import ResourceRecord, Store
from backend.streams.live import StreamLedger

if TYPE_CHECKING:
    from kafka import KafkaAdminClient

log = logging.getLogger(__name__)

AGENT_VERSION = "0.1.0"
AGENT_CAPABILITIES = AgentCapabilities(metrics=True, k2k=False)
MAX_BACKOFF = 30.0


def _key(kind: str, spec: dict[str, Any]) -> str:
    return kind + ":" + json.dumps(spec, sort_keys=True)


@dataclass
class Watch:
    """One thing probed on a schedule; `probe` returns a reading or raises with the reason."""

    label: str
    probe: Callable[[], Any]
    close: Callable[[], None] = lambda: None
    reading: Any = None
    previous: Any = None
    read_at: str | None = None
    error: str | None = None
    failures: int = 0
    due: float = 0.0
    running: Future | None = field(default=None, repr=False)
    started: float = 0.0

    def finish(self, now: float, interval: float) -> None:
        future, self.running = self.running, None
        try:
            reading = future.result()
        except Exception as exc:  # every failure is a reason to show, not to crash on
            self.failures += 1
            self.error = f"{self.label}: {exc or type(exc).__name__}"
            self.due = now + min(interval * 2 ** self.failures, MAX_BACKOFF)
            return
        self.previous, self.reading, self.read_at = self.reading, reading, utc_now_iso()
        # From the probe's start, not its end: rounds start `interval` apart, and a due time
        # a few ms after the next round's start would skip every other round.
        self.error, self.failures, self.due = None, 0, self.started + interval


class KafkaWatch:
    """Keeps one admin client per cluster between probes; drops it after any failure."""

    def __init__(self, spec: KafkaConnectionSpec, timeout: float) -> None:
        self.spec = spec
        self.timeout_ms = int(timeout * 1000)
        self.admin: KafkaAdminClient | None = None  # kafka-python's, made by the first probe

    def probe(self) -> ClusterSnapshot:
        try:
            if self.admin is None:
                self.admin = admin_client(self.spec, self.timeout_ms)
            return read_cluster(self.admin)
        except Exception:
            self.close()
        # Diagnosed once the failure is handled, not while it is: a librdkafka client started
        # while kafka-python's exception was alive left a socket open for good, one per probe.
        raise ConnectionError(diagnose(self.spec, self.timeout_ms / 1000))

    def close(self) -> None:
        admin, self.admin = self.admin, None
        if admin is not None:
            admin.close()


class AgentSupervisor:
    def __init__(self, store: Store, *, interval: float = 5.0, timeout: float = 5.0,
                 heartbeat: float = HEARTBEAT_SECONDS, sse_ping_seconds: float = SSE_PING_SECONDS,
                 consumer_ttl_seconds: float = CONSUMER_TTL_SECONDS) -> None:
        self.store = store
        self.interval = interval
        self.timeout = timeout
        self.sse_ping_seconds = sse_ping_seconds
        self.consumer_ttl_seconds = consumer_ttl_seconds
        self._publication = StatusPublication(heartbeat)
        self.info = AgentInfo(hostname=socket.gethostname(), version=AGENT_VERSION, capabilities=AGENT_CAPABILITIES)
        self.upstreams = UpstreamPool(timeout)
        self._watches: dict[str, Watch] = {}
        # One per environment with a Kafka connection: asked for by requests, fed by rounds.
        self._contexts: dict[str, AgentContext] = {}
        self._contexts_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="streamhq-agent")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamhq-agents", daemon=True)
        self.probes_started = 0  # in all, over the supervisor's life

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.timeout + 5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for watch in self._watches.values():
            watch.close()
        with self._contexts_lock:
            contexts, self._contexts = list(self._contexts.values()), {}
        for context in contexts:
            context.close()
        self.upstreams.close()

    def watches(self) -> list[Watch]:
        """What the agent probes, each as it stood after the last round: copies, so a reader
        (diagnostics, a test) sees the readings and due times and can change nothing."""
        return [replace(watch) for watch in list(self._watches.values())]

    def agent_context(self, environment: str) -> AgentContext | None:
        """What the agent app of an environment is made from, the same one while the environment
        has a Kafka connection; None when it has none, so no agent. Reads the store."""
        if not self.store.list_resources(environment, "kafka-connection"):
            with self._contexts_lock:
                dropped = self._contexts.pop(environment, None)
            if dropped is not None:
                dropped.close()
            return None
        return self._context(environment)

    def _context(self, environment: str) -> AgentContext:
        with self._contexts_lock:
            context = self._contexts.get(environment)
            if context is None:
                context = self._contexts[environment] = AgentContext(
                    environment, self.info, lambda: self._resources(environment), self.upstreams,
                    ConnectorLedger(environment), StreamLedger(environment), self.sse_ping_seconds,
                    consumer_ttl_seconds=self.consumer_ttl_seconds)
            return context

    def _keep_contexts(self, environments: set[str]) -> None:
        """Drops the contexts of environments without a Kafka connection now: not one a request made
        during the round for an environment the round did not know yet (its feeds' clients would
        follow a ledger nobody feeds)."""
        with self._contexts_lock:
            unknown = set(self._contexts) - environments
        gone = {e for e in unknown if not self.store.list_resources(e, "kafka-connection")}
        with self._contexts_lock:
            dropped = [self._contexts.pop(e) for e in gone if e in self._contexts]
        for context in dropped:
            context.close()

    def _resources(self, environment: str) -> AgentResources | None:
        kafka = self.store.list_resources(environment, "kafka-connection")
        if not kafka:
            return None
        return AgentResources(
            kafka=KafkaConnectionSpec.model_validate(kafka[0].spec),  # the first by name, as in tick()
            connect_clusters={r.name: ConnectClusterSpec.model_validate(r.spec)
                              for r in self.store.list_resources(environment, "connect-cluster")},
            redpanda_connects={r.name: RedpandaConnectSpec.model_validate(r.spec)
                               for r in self.store.list_resources(environment, "redpanda-connect")},
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:
                if self._stop.is_set():  # the store closed under us at shutdown
                    return
                log.exception("agent round failed; the next round retries")
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def tick(self) -> None:
        """One round: probe what is due, then write the status of each watched environment where
        it changed (or its heartbeat is due)."""
        environments = {e.name: e for e in self.store.list_environments()}
        connections = self.store.list_resources(None, "kafka-connection")
        kafka = _first_by_environment(connections)
        connects = _by_environment(self.store.list_resources(None, "connect-cluster"))
        redpanda_connects = _by_environment(self.store.list_resources(None, "redpanda-connect"))

        wanted: dict[str, Callable[[], Watch]] = {}
        for record in kafka.values():
            spec = stored_kafka_spec(record.spec)
            wanted[_key("kafka", record.spec)] = lambda s=spec, r=record: self._kafka_watch(r, s)
            wanted[_key("streams", record.spec)] = lambda s=spec: self._streams_watch(s)
        for record in (r for records in connects.values() for r in records):
            spec = ConnectClusterSpec.model_validate(with_first_distinct(record.spec, "urls", CONNECT_WORKERS_ASKED))
            wanted[_key("connect", record.spec)] = lambda s=spec, r=record: self._connect_watch(r, s)
        for record in (r for records in redpanda_connects.values() for r in records):
            spec = RedpandaConnectSpec.model_validate(record.spec)
            wanted[_key("redpanda_connects", record.spec)] = lambda s=spec, r=record: Watch(
                f"Redpanda Connect {r.name}", lambda: check_ready(self.upstreams.redpanda_connect(r.name, s)))
        self._reconcile(wanted)
        self._probe_due()
        out = records_out({key: group_rates(w.reading, w.previous) for key, w in self._watches.items()
                           if isinstance(w.reading, ClusterSnapshot)}, self._k2k_reads(connections))

        for name, record in kafka.items():
            if name not in environments:
                continue
            self._apply_connectors(self._context(name).connectors, connects.get(name, []))
            self._apply_streams(self._context(name).streams, record)
            status = self._status(record, connects.get(name, []), redpanda_connects.get(name, []),
                                  out.get(_key("kafka", record.spec)))
            if self._publication.wanted(name, status, time.monotonic()):
                self.store.update_environment(name, status=status)
        self._publication.keep_only(set(kafka) & set(environments))
        self._keep_contexts(set(kafka) & set(environments))
        for name, environment in environments.items():
            if name not in kafka and environment.status.get("agent"):
                self.store.update_environment(name, status={})  # its last connection was removed

    def _k2k_reads(self, connections: list[ResourceRecord]) -> list[K2KRead]:
        """HQ's K2K apps whose two clusters are watched, by watch key."""
        keys = {(r.environment, r.name): _key("kafka", r.spec) for r in connections}
        reads = []
        for app in self.store.list_apps():
            ends = [parse_resource_lrn(app.spec.get(field, ""), "kafka-connection")
                    for field in ("sourceKafkaLRN", "targetKafkaLRN")]
            source, target = (keys.get((lrn.environment, lrn.name)) if lrn else None for lrn in ends)
            if source is not None and target is not None:
                reads.append(K2KRead(consumer_group(app.name), source, target))
        return reads

    def _apply_connectors(self, ledger: ConnectorLedger, connects: list[ResourceRecord]) -> None:
        """The environment's ledger gets each of its Connect clusters' last reading, under the
        name the environment gives the cluster; a cluster that failed is left as last known."""
        for cluster in ledger.clusters() - {r.name for r in connects}:
            ledger.forget_cluster(cluster)
        for record in connects:
            watch = self._watches[_key("connect", record.spec)]
            reading: ConnectReading | None = watch.reading
            if watch.error is None and reading is not None:
                items = list_items(ledger.environment, record.name, reading.connectors, reading.plugins)
                ledger.apply_cluster(record.name, items, reading.started)

    def _apply_streams(self, ledger: StreamLedger, kafka: ResourceRecord) -> None:
        """The cluster's last reading of streams and groups, unless it failed (they stay as last known)."""
        watch = self._watches[_key("streams", kafka.spec)]
        if watch.error is None and watch.reading is not None:
            ledger.apply(kafka.name, watch.reading)

    def _connect_watch(self, record: ResourceRecord, spec: ConnectClusterSpec) -> Watch:
        watch = ConnectWatch(self.upstreams.connect_cluster(record.name, spec))
        return Watch(f"Kafka Connect {record.name}", watch.probe)

    def _kafka_watch(self, record: ResourceRecord, spec: KafkaConnectionSpec) -> Watch:
        watch = KafkaWatch(spec, self.timeout)
        brokers = ", ".join(bootstrap_addresses(spec)) or "(no brokers)"
        return Watch(f"Kafka {brokers}", watch.probe, watch.close)

    def _streams_watch(self, spec: KafkaConnectionSpec) -> Watch:
        watch = StreamsWatch(spec, self.timeout)
        return Watch(f"Streams and groups of Kafka {', '.join(bootstrap_addresses(spec))}", watch.probe, watch.close)

    def _reconcile(self, wanted: dict[str, Callable[[], Watch]]) -> None:
        for key in set(self._watches) - set(wanted):
            self._watches.pop(key).close()
        for key, make in wanted.items():
            if key not in self._watches:
                self._watches[key] = make()

    def _probe_due(self) -> None:
        now = time.monotonic()
        # Due times are a probe's start plus the interval, and a round reaches here a few ms
        # earlier or later than the last: without the slack, a round that came early skipped a
        # watch due a moment later, and its reading waited a whole extra interval.
        slack = self.interval / 10
        for watch in self._watches.values():
            if watch.running is None and watch.due <= now + slack:
                watch.started = now
                watch.running = self._pool.submit(watch.probe)
                self.probes_started += 1
        running = [w.running for w in self._watches.values() if w.running is not None]
        wait(running, timeout=self.timeout + 1)
        now = time.monotonic()
        for watch in self._watches.values():
            if watch.running is not None and watch.running.done():
                watch.finish(now, self.interval)
            elif watch.running is not None and now - watch.started > 2 * self.timeout:
                watch.error = f"{watch.label}: no answer for {now - watch.started:.0f}s"

    def _status(self, kafka: ResourceRecord, connects: list[ResourceRecord],
                redpanda_connects: list[ResourceRecord], records_out_per_sec: float | None) -> dict[str, Any]:
        cluster = self._watches[_key("kafka", kafka.spec)]
        streams = self._watches[_key("streams", kafka.spec)]
        connect_watches = [self._watches[_key("connect", r.spec)] for r in connects]
        redpanda_connect_watches = [self._watches[_key("redpanda_connects", r.spec)] for r in redpanda_connects]
        snapshot: ClusterSnapshot | None = cluster.reading
        issues = [w.error for w in (cluster, *connect_watches, *redpanda_connect_watches) if w.error]
        if snapshot is None and cluster.error is None:
            issues.insert(0, f"{cluster.label}: waiting for the first answer")
        if snapshot is not None:
            issues += snapshot.problems
        if cluster.error is None:  # a cluster down is one issue, not two
            issues += streams_issues(streams.error, streams.reading)
        now = utc_now_iso()
        agent: dict[str, Any] = {
            "updated_at": now,
            "roundtrip_duration": round(snapshot.roundtrip_ms) if snapshot else None,
            "agent": self.info.model_dump(),
            "issues": issues,
            "metrics": {
                "connect": {
                    "num_clusters": len(connects),
                    "num_connectors": sum(len(w.reading.connectors) for w in connect_watches if w.reading is not None),
                    "updated_at": now,
                },
                "other": {"num_issues": len(issues), "updated_at": now},
            },
        }
        if snapshot is not None:
            agent["metrics"] |= cluster_metrics(snapshot, cluster.previous, cluster.read_at, records_out_per_sec)
        return {"agent_connected": cluster.error is None and snapshot is not None, "agent": agent}


def _first_by_environment(records: list[ResourceRecord]) -> dict[str, ResourceRecord]:
    """An environment is one cluster; with several connections, the first by name is the agent's."""
    first: dict[str, ResourceRecord] = {}
    for record in records:  # ordered by environment, name
        first.setdefault(record.environment, record)
    return first


def _by_environment(records: list[ResourceRecord]) -> dict[str, list[ResourceRecord]]:
    grouped: dict[str, list[ResourceRecord]] = {}
    for record in records:
        grouped.setdefault(record.environment, []).append(record)
    return grouped
