"""The agent writes an environment's status when a figure in it changed, else once per heartbeat
(backend/agent/publication.py), so idle environments do not flood the change feed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backend.agent.publication import StatusPublication
from backend.agent.supervisor import AgentSupervisor
from backend.environments.models import EnvironmentCreate, KafkaConnectionSpec
from backend.environments.resources import KAFKA_CONNECTION
from backend.environments.service import EnvironmentService
from backend.store import SQLiteStore
from backend.store.changes import Change
from tests.api.test_cli import free_port
from tests.waiting import until


def status(*, at: str = "2026-12-01T08:00:00.000Z", roundtrip: float | None = 3, rate: float = 7012.5,
           topics: int = 4) -> dict:
    """A status as the agent writes it (the figures that matter here)."""
    return {"agent_connected": True, "agent": {
        "updated_at": at, "roundtrip_duration": roundtrip, "issues": [],
        "metrics": {"data": {"num_topics": topics, "data_out_bytes_per_sec": rate, "updated_at": at},
                    "other": {"num_issues": 0, "updated_at": at}}}}


def test_the_first_status_is_published_then_only_changes_and_heartbeats():
    publication = StatusPublication(heartbeat=15.0)

    assert publication.wanted("dev", status(), at=100.0)
    assert not publication.wanted("dev", status(at="2026-12-01T08:00:05.000Z"), at=105.0)  # timestamps only
    assert not publication.wanted("dev", status(roundtrip=9), at=106.0)  # jitter
    assert not publication.wanted("dev", status(rate=7012.5000001), at=107.0)  # float noise
    assert publication.wanted("dev", status(topics=5), at=108.0)
    assert publication.wanted("dev", status(topics=5, rate=9100.0), at=109.0)
    assert publication.wanted("dev", status(topics=5, rate=9100.0, roundtrip=250), at=110.0)  # slower by far
    assert publication.wanted("dev", status(topics=5, rate=9100.0, roundtrip=None), at=111.0)  # no answer
    assert not publication.wanted("dev", status(topics=5, rate=9100.0, roundtrip=None), at=125.9)
    assert publication.wanted("dev", status(topics=5, rate=9100.0, roundtrip=None), at=126.0)  # heartbeat


def test_each_environment_has_its_own_heartbeat_and_a_forgotten_one_publishes_again():
    publication = StatusPublication(heartbeat=15.0)
    assert publication.wanted("a", status(), at=100.0)
    assert publication.wanted("b", status(), at=101.0)

    publication.keep_only({"b"})

    assert publication.wanted("a", status(), at=102.0)
    assert not publication.wanted("b", status(), at=102.0)


def tick_until(agents: AgentSupervisor, condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Agent rounds until `condition` holds."""
    def held_or_ticked() -> bool:
        if condition():
            return True
        agents.tick()
        return False

    until(held_or_ticked, timeout, what, every=0.05)


@pytest.fixture
def published(tmp_path: Path):
    """Every change the store publishes, and the service over that store."""
    changes: list[Change] = []
    store = SQLiteStore(tmp_path / "hq.db", publish=changes.append)
    yield changes, EnvironmentService(store)
    store.close()


def test_an_unchanged_round_publishes_nothing_and_a_heartbeat_follows(published):
    changes, service = published
    service.create(EnvironmentCreate(name="silent"))
    # A cluster that refuses: its status (the issue) is the same every round, without any Kafka.
    service.put_resource("silent", KAFKA_CONNECTION, "main",
                         KafkaConnectionSpec(override_broker_addresses=[f"127.0.0.1:{free_port()}"]))
    # A long interval: after its first failure the cluster is not probed again during the test.
    agents = AgentSupervisor(service.store, interval=60.0, timeout=1.0, heartbeat=1.0)

    def statuses() -> list[dict]:
        return [c.data.status for c in changes if c.kind == "environment" and c.supersedes]

    tick_until(agents, lambda: "refused" in str(statuses()[-1:]), "the refused connection to be reported")
    count = len(statuses())

    agents.tick()
    assert len(statuses()) == count

    tick_until(agents, lambda: len(statuses()) > count, "a heartbeat")
    before, heartbeat = statuses()[-2:]
    assert heartbeat["agent"]["issues"] == before["agent"]["issues"]
    assert heartbeat["agent"]["updated_at"] > before["agent"]["updated_at"]
    agents.stop()
