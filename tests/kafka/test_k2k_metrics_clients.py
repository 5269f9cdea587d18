"""The K2K metrics collector lets go of an app's Kafka clients when the app goes: apps that
come and go must not pile up consumers, each a few threads and file descriptors."""

from __future__ import annotations

import psutil
import pytest

from backend.feed import ChangeFeed
from backend.k2k.metrics import MetricsCollector
from backend.store import AppRecord, SQLiteStore
from tests.kafka.replication import worker_config

pytestmark = pytest.mark.kafka

CYCLES = 20


def app_record(name: str) -> AppRecord:
    spec = {"sourceKafkaLRN": "environments:kafka-connection/src/main",
            "targetKafkaLRN": "environments:kafka-connection/dst/main", "topics": ["orders"]}
    return AppRecord(name=name, id=f"id-{name}", display_name=None, description=None,
                     created_at="2025-01-01T00:00:00.000Z", generation=1, spec=spec, status={})


def test_apps_that_come_and_go_leave_no_kafka_clients_behind(source, target, tmp_path):
    store = SQLiteStore(tmp_path / "streamhq.db")
    collector = MetricsCollector(store, ChangeFeed().publish, interval=3.0)
    process = psutil.Process()
    try:
        collector.collect_round()
        before = (process.num_threads(), process.num_fds())
        for _ in range(CYCLES):
            config = worker_config(source, target, ["orders"])
            collector.track({config.app: app_record(config.app)}, {config.app: config})
            collector.collect_round()
            assert collector.latest(config.app) is not None
        collector.track({}, {})
        collector.collect_round()

        assert collector.open_clients == 0
        threads, fds = process.num_threads() - before[0], process.num_fds() - before[1]
        # One app's clients are a handful of threads and descriptors; twenty apps' would be ~100.
        assert threads <= 10 and fds <= 10, (threads, fds)
    finally:
        collector.stop()
        store.close()
