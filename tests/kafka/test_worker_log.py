"""A worker whose source cluster is unreachable writes a bounded log: librdkafka's line for
every refused connection goes through the repeat filter (backend/replicator/worker_log.py)."""

from __future__ import annotations

import logging
import threading

import pytest

from backend.replicator.config import WorkerConfig, consumer_group
from backend.replicator.worker import Worker
from backend.replicator.worker_log import RepeatFilter, client_log
from tests.kafka.replication import unique
from tests.waiting import until

pytestmark = pytest.mark.kafka

UNREACHABLE = "127.0.0.1:20001"  # nothing listens there: every connection is refused at once
REFUSALS = 200  # about ten seconds of a client retrying


def test_a_worker_facing_an_unreachable_source_logs_each_kind_of_failure_once(target, tmp_path):
    app = unique("unreachable")
    config = WorkerConfig(app=app, generation=1, group=consumer_group(app), source={"bootstrap.servers": UNREACHABLE},
                          target={"bootstrap.servers": target["bootstrap"]}, topics=["nothing"],
                          auto_create_control_topics=True)
    log_file = tmp_path / "worker.log"
    handler = logging.FileHandler(log_file)
    handler.addFilter(repeats := RepeatFilter())
    client_log.addHandler(handler)
    worker = Worker(config, "0")
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        until(lambda: "Connection refused" in log_file.read_text(), 120, "the first refusal in the log")
        first = worker.client_errors
        until(lambda: worker.client_errors >= first + REFUSALS, 120, f"{REFUSALS} more refusals")
    finally:
        worker.stopping.set()
        running.join()
        client_log.removeHandler(handler)
        handler.close()

    lines = log_file.read_text().splitlines()
    assert all("Connection refused" in line for line in lines), lines
    # One line per kind (client and broker), not one per refusal; the rest are counted.
    assert len(lines) <= 10, lines
    assert repeats.held_back >= REFUSALS - len(lines)
