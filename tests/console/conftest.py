"""Console tests drive the real app against a real HQ (its own home dir per test), through
the same HQClient a user's console uses: every screen test is also an API test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.app import create_app
from backend.deps import services_of
from backend.server import ServerThread, unix_socket
from backend.settings import Settings
from backend.store import EnvironmentRecord, Store
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig

TOKEN = "console-test-session-token"
# Console tests seed agent reports and K2K statuses and metrics with fixed figures (so snapshots
# are stable) and use made-up broker addresses; the built-in agent and the K2K controller, tested
# against real clusters in tests/kafka, are off here.
SIZE = (120, 40)


@dataclass
class HQ:
    home: Path
    socket: Path
    server: ServerThread

    @property
    def store(self) -> Store:
        return services_of(self.server.server.config.app).store

    def client(self) -> HQClient:
        return HQClient("test-hq", TOKEN, uds=str(self.socket))

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        """A new server process-alike on the same home and socket (the old one must be stopped)."""
        app = create_app(Settings(home=self.home, session_token=TOKEN, builtin_agent=False, k2k_controller=False))
        self.server = ServerThread(app, unix_socket(self.socket)).start()


def start_hq(home: Path) -> HQ:
    socket = home / "hq.sock"
    app = create_app(Settings(home=home, session_token=TOKEN, builtin_agent=False, k2k_controller=False))
    return HQ(home, socket, ServerThread(app, unix_socket(socket)).start())


@pytest.fixture
def hq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HQ]:
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path / "config"))
    server = start_hq(tmp_path / "home")
    yield server
    server.stop()


@pytest.fixture
def console(hq: HQ, tmp_path: Path):
    """Makes a console app on the test HQ; keyword arguments go to StreamHQApp."""

    def make(config: ConsoleConfig | None = None, **options: object) -> StreamHQApp:
        config = config or ConsoleConfig(path=tmp_path / "config" / "config.yaml")
        return StreamHQApp(hq.client(), config, **options)

    return make


# Fixed values, so that snapshots are the same on every run.
CREATED = "2026-11-02T09:30:00.000Z"
AGENT_REPORT = {
    "agent_connected": True,
    "agent": {
        "updated_at": "2026-11-23T10:15:00.000Z",
        "roundtrip_duration": 12,
        "agent": {"hostname": "ops-1", "version": "0.1.0", "capabilities": {"metrics": True, "k2k": True}},
        "metrics": {
            "kafka": {"version": "4.3.1", "num_brokers": 3},
            "data": {"num_topics": 142, "num_partitions": 1204, "topic_data_total_bytes": 73_400_000_000,
                     "data_in_bytes_per_sec": 5_240_000, "data_out_bytes_per_sec": 15_900_000,
                     "data_in_messages_per_sec": 5200},
            "connect": {"num_clusters": 1, "num_connectors": 12},
        },
    },
}


def seed_environment(store: Store, name: str, tier: str = "development", *, reporting: bool = False,
                     display_name: str | None = None, metadata: dict[str, str] | None = None,
                     issues: list[str] | None = None) -> None:
    """An environment with fixed id and timestamps; `reporting` gives it the status an agent reports."""
    status = {**AGENT_REPORT, "agent": {**AGENT_REPORT["agent"], "issues": issues or []}} if reporting else {}
    record = EnvironmentRecord(id=f"00000000-0000-0000-0000-{len(name):012d}", name=name,
                               display_name=display_name or name, tier=tier, metadata=metadata or {},
                               created_at=CREATED, status=status)
    store.create_environment(record, agent_key_hash=f"hash-of-{name}")


def seed_fleet(store: Store) -> None:
    seed_environment(store, "prod-eu", "production", reporting=True, display_name="Production EU",
                     metadata={"team": "payments", "region": "eu-west-1"})
    seed_environment(store, "staging-eu", "staging", reporting=True, display_name="Staging EU",
                     issues=["3 partition(s) are under-replicated"])
    seed_environment(store, "dev-local", display_name="Developer laptop")
