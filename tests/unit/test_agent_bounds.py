"""What a user typed into a connection does not decide how many threads the agent starts
(backend/agent/bounds.py): a stored connection with thousands of broker addresses, as a
database from before the models bounded the list holds it, costs what one with three does."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backend.agent.bounds import first_distinct
from backend.agent.kafka import BOOTSTRAP_ADDRESSES, admin_config, librdkafka_config, stored_kafka_spec
from backend.agent.supervisor import AgentSupervisor
from backend.store import EnvironmentRecord, ResourceRecord, SQLiteStore
from tests.waiting import until

# Loopback ports nothing listens on: each refuses at once, so a probe fails fast and in earnest.
CLOSED_PORTS = range(20_000, 25_000)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "streamhq.db")
    yield store
    store.close()


def many_addresses() -> list[str]:
    return [f"127.0.0.1:{port}" for port in CLOSED_PORTS]


class PeakThreads:
    """The most threads this process ran at once while the block ran."""

    def __init__(self) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._done.is_set():
            self.peak = max(self.peak, process.num_threads())

    def __enter__(self) -> PeakThreads:
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._sampler.join()


def test_the_first_few_distinct_entries_are_kept_in_order():
    assert first_distinct(["b", "a", "b", "c", "a", "d"], 3) == ["b", "a", "c"]
    assert first_distinct(iter(range(10**9)), 2) == [0, 1]  # stops reading at the limit


def test_every_client_of_a_connection_gets_a_few_distinct_bootstrap_addresses():
    addresses = ["127.0.0.1:20000", "127.0.0.1:20000", *many_addresses()]
    spec = stored_kafka_spec({"override_broker_addresses": addresses, "auth": {"plaintext": {}}})

    expected = [f"127.0.0.1:{port}" for port in CLOSED_PORTS[:BOOTSTRAP_ADDRESSES]]
    assert admin_config(spec, 1000)["bootstrap_servers"] == expected
    assert librdkafka_config(spec)["bootstrap.servers"] == ",".join(expected)


def test_an_agent_round_over_a_stored_connection_of_5000_addresses_starts_a_bounded_number_of_threads(store):
    store.create_environment(EnvironmentRecord(id="id-many", name="many", display_name="many", tier="development",
                                               metadata={}, created_at="2025-01-01T00:00:00.000Z"), "hash")
    # Written past the models, as an older server stored it.
    store.put_resource(ResourceRecord("many", "kafka-connection", "main",
                                      {"override_broker_addresses": many_addresses(), "auth": {"plaintext": {}}}))
    agents = AgentSupervisor(store, interval=60, timeout=1.0)
    before = psutil.Process().num_threads()
    try:
        with PeakThreads() as threads:
            agents.tick()
    finally:
        agents.stop()

    status = store.get_environment("many").status
    assert status["agent_connected"] is False
    assert status["agent"]["issues"]  # the round ran through and says why the cluster is unreadable
    # The agent's pool, one librdkafka client (a thread per bootstrap broker and its own few)
    # and the sampler: tens, where one thread per address was five thousand.
    assert threads.peak - before <= 50, threads.peak
    assert len(status["agent"]["issues"][0]) < 1_000  # the issue names a few addresses, not all


def threads_beside_the_agent_pool(process: psutil.Process) -> int:
    """The process's threads, less the agent's own pool, which starts its threads lazily (up to
    its size) whenever probes overlap: that is growth by design, not a leak."""
    pool = sum(1 for thread in threading.enumerate() if thread.name.startswith("streamhq-agent_"))
    return process.num_threads() - pool


def test_probes_of_an_unreachable_cluster_leave_no_threads_or_descriptors_behind(store):
    store.create_environment(EnvironmentRecord(id="id-down", name="down", display_name="down", tier="development",
                                               metadata={}, created_at="2025-01-01T00:00:00.000Z"), "hash")
    store.put_resource(ResourceRecord("down", "kafka-connection", "main",
                                      {"override_broker_addresses": ["127.0.0.1:20000"], "auth": {"plaintext": {}}}))
    process = psutil.Process()

    def probe(times: int) -> None:
        # A tiny interval: the backoff after each failure has passed by the next round.
        agents = AgentSupervisor(store, interval=0.001, timeout=1.0)
        try:
            while agents.probes_started < times:
                agents.tick()
        finally:
            agents.stop()
        gc.collect()  # a closed kafka-python client's sockets wait in reference cycles until then

    def in_use() -> tuple[int, int]:
        return threads_beside_the_agent_pool(process), process.num_fds()

    probe(2)  # whatever a first probe starts once (imports, librdkafka's globals) is started now
    before = until(lambda: in_use(), 1, "a reading")
    probe(6)
    # Each failed probe used to leave kafka-python's I/O thread and three descriptors running:
    # six probes left six threads for good. A client still closing when the agent stopped is not a
    # leak, so the count is given time to come back.
    until(lambda: in_use()[0] - before[0] <= 1 and in_use()[1] - before[1] <= 3, 30,
          lambda: f"threads and descriptors {before} -> {in_use()}")
    assert store.get_environment("down").status["agent_connected"] is False
