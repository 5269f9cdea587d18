"""Probing the HTTP services an environment reaches: Kafka Connect clusters (their connectors,
read in one expanded call) and Redpanda Connect instances (ready or not), through the agent's
upstream client."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from backend.agent.upstream import Upstream, UpstreamError

# Any worker of a Connect cluster answers for all of it; a few cover one that is down, and
# each unreachable one costs a whole timeout.
CONNECT_WORKERS_ASKED = 3
# A cluster's plugins change only when its workers are redeployed, which also fails a probe
# (and so drops them): read again this rarely otherwise.
PLUGINS_REFRESH_SECONDS = 600.0
EXPANDED_CONNECTORS = "/connectors?expand=status&expand=info"


@dataclass(frozen=True)
class ConnectReading:
    """One full reading of a Connect cluster, as its worker answered."""

    started: float  # time.monotonic() as the reading began: API actions after it outrank it
    connectors: dict[str, Any]  # name -> {"status": …, "info": …}
    plugins: list[dict[str, Any]]  # `/connector-plugins`


class ConnectWatch:
    """Reads a Connect cluster's connectors (one call, not one per connector) and keeps its
    plugin list between readings. One probe runs at a time, so nothing here is shared."""

    def __init__(self, connect: Upstream, plugins_refresh_seconds: float = PLUGINS_REFRESH_SECONDS) -> None:
        self.connect = connect
        self.plugins_refresh_seconds = plugins_refresh_seconds
        self._plugins: list[dict[str, Any]] | None = None
        self._plugins_read_at = 0.0

    def probe(self) -> ConnectReading:
        """The cluster's connectors, asking its workers in turn until one answers (the supervisor
        hands it the first CONNECT_WORKERS_ASKED of them)."""
        started = time.monotonic()
        try:
            connectors = self.connect.get_json(EXPANDED_CONNECTORS)
            if not isinstance(connectors, dict):  # a worker before Kafka 2.3 ignores `expand`
                raise ConnectionError(f"{self.connect.urls[0]}: the worker does not expand its connector list")
            if self._plugins is None or started - self._plugins_read_at > self.plugins_refresh_seconds:
                plugins = self.connect.get_json("/connector-plugins")
                self._plugins = [p for p in plugins if isinstance(p, dict)] if isinstance(plugins, list) else []
                self._plugins_read_at = started
        except UpstreamError as error:
            self._plugins = None  # the worker that comes back may be another build
            # The probe's watch already names the upstream; its issue says where and what.
            raise ConnectionError(error.detail) from error
        return ConnectReading(started, connectors, self._plugins)


def check_ready(redpanda_connect: Upstream) -> None:
    try:
        response = redpanda_connect.request("GET", "/ready")
    except UpstreamError as error:
        raise ConnectionError(error.detail) from error
    if response.status_code != 200:
        raise ConnectionError(f"{response.url} answered {response.status_code}")
