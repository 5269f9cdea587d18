from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.settings import Settings
from tests.api.hq import ADMIN_TOKEN, PREFIXES, UNREACHABLE_BROKERS, RunningHQ, add_environment, agent_hq, running_hq
from tests.api.k2k_apps import KUBERNETES, Clusters, app_doc, create, make_clusters


@pytest.fixture(scope="session")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    """One real HQ for the whole session; tests keep apart by using unique names."""
    settings = Settings(home=tmp_path_factory.mktemp("hq"), admin_token=ADMIN_TOKEN, sse_ping_seconds=0.5,
                        builtin_agent=False, k2k_controller=False)
    with running_hq(settings) as running:
        yield running


@pytest.fixture(scope="session")
def base_url(hq: RunningHQ) -> str:
    return hq.url


@pytest.fixture
def api(hq: RunningHQ) -> Iterator[httpx.Client]:
    with hq.client() as client:
        yield client


@pytest.fixture(params=PREFIXES)
def prefix(request: pytest.FixtureRequest) -> str:
    """Every test that takes `prefix` runs under both API prefixes."""
    return request.param


@pytest.fixture
def make_env(api: httpx.Client, unique_name: Callable[[], str]) -> Callable[..., dict[str, Any]]:
    """Creates an environment with a fresh name (fields as given) and returns the create answer."""

    def make(**fields: Any) -> dict[str, Any]:
        response = api.post("/v1/environments", json={"name": unique_name(), **fields})
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def clusters(api: httpx.Client, make_env: Callable[..., dict[str, Any]]) -> Clusters:
    """Kafka connections for K2K apps to point at (see `Clusters`)."""
    return make_clusters(api, make_env()["name"], make_env()["name"])


@pytest.fixture
def name(unique_name: Callable[[], str]) -> str:
    return unique_name()


@pytest.fixture
def app(api: httpx.Client, clusters: Clusters, name: str) -> dict[str, Any]:
    """A created K2K app, as the POST answered it."""
    return create(api, app_doc(clusters, name, kubernetes=KUBERNETES))


@pytest.fixture(scope="module")
def hq_with_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    """A real HQ that runs the built-in agent (the session's HQ runs none)."""
    with agent_hq(Path(tmp_path_factory.mktemp("hq-agent")), 0.5, 1.0) as running:
        yield running


@pytest.fixture
def client(hq_with_agent: RunningHQ) -> Iterator[httpx.Client]:
    with hq_with_agent.client() as http:
        yield http


@pytest.fixture
def environment(client: httpx.Client, unique_name: Callable[[], str]) -> Callable[..., str]:
    """An environment, with a Kafka connection to brokers that refuse unless `kafka=None`."""

    def make(kafka: dict | None = UNREACHABLE_BROKERS) -> str:
        return add_environment(client, unique_name(), kafka)

    return make
