"""Running the real HQ (uvicorn on loopback) for a test, and talking to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from backend.app import create_app
from backend.auth import ensure_admin_token
from backend.deps import services_of
from backend.feed import ChangeFeed
from backend.server import ServerThread, tcp_socket
from backend.settings import Settings
from backend.store import Store

ADMIN_TOKEN = "shq_admin_test-suite-token"
PREFIXES = ("/v1", "/api/v1")

# A Kafka connection whose brokers refuse: the environment has an agent, its cluster never answers.
UNREACHABLE_BROKERS = {"override_broker_addresses": ["127.0.0.1:1"]}

# The HQ error shape (docs/architecture.md, errors), exactly these keys.
ERROR_KEYS = {"type", "title", "status", "invalid_fields", "request_id"}


@dataclass(frozen=True)
class RunningHQ:
    app: FastAPI
    url: str

    @property
    def store(self) -> Store:
        """The server's own store, for checking what an answer does not show (stored secrets)."""
        return services_of(self.app).store

    @property
    def feed(self) -> ChangeFeed:
        """The server's own change feed, for publishing faster than any client could write."""
        return services_of(self.app).feed

    def client(self, token: str | None = ADMIN_TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@contextmanager
def running_hq(settings: Settings) -> Iterator[RunningHQ]:
    """The HQ as `streamhq serve` runs it (admin token made the stored one), on a free port."""
    app = create_app(settings)
    ensure_admin_token(services_of(app).store, settings.admin_token)
    server = ServerThread(app, tcp_socket("127.0.0.1", 0)).start()
    host, port = server.sock.getsockname()[:2]
    try:
        yield RunningHQ(app, f"http://{host}:{port}")
    finally:
        server.stop()


@contextmanager
def agent_hq(home: Path, interval_seconds: float, timeout_seconds: float, **settings: Any) -> Iterator[RunningHQ]:
    """A running HQ whose built-in agent reads every `interval_seconds` (no K2K controller), with
    any further `settings` a module's tests need."""
    with running_hq(Settings(home=home, admin_token=ADMIN_TOKEN, k2k_controller=False,
                             agent_interval_seconds=interval_seconds, agent_timeout_seconds=timeout_seconds,
                             **settings)) as running:
        yield running


@contextmanager
def polling_hq(home: Path, round_seconds: float, agent_timeout_seconds: float) -> Iterator[RunningHQ]:
    """A running HQ whose built-in agent reads every `round_seconds` and pings idle feeds as often
    (no K2K controller): for tests that follow what the agent reads."""
    with agent_hq(home, round_seconds, agent_timeout_seconds, sse_ping_seconds=round_seconds) as running:
        yield running


def add_environment(api: httpx.Client, name: str, kafka: dict | None = UNREACHABLE_BROKERS) -> str:
    """Creates environment `name` with Kafka connection `main` (brokers that refuse, unless given;
    none with `kafka=None`) and returns its name."""
    api.post("/v1/environments", json={"name": name}).raise_for_status()
    if kafka is not None:
        api.put(f"/v1/environments/{name}/kafka-connections/main", json=kafka).raise_for_status()
    return name


def assert_error(response: httpx.Response, status: int, type_: str, *fields: str) -> dict:
    """The answer is an HQ error of this status and type whose invalid_fields name `fields`
    (in any order), and its request id is the one in the X-Request-ID header."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == ERROR_KEYS, body
    assert (body["type"], body["status"]) == (type_, status), body
    assert body["title"]
    assert body["request_id"] and response.headers["X-Request-ID"] == body["request_id"]
    assert sorted(f["name"] for f in body["invalid_fields"]) == sorted(fields), body
    return body
