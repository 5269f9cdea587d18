"""Probing the HTTP services an environment reaches: Kafka Connect clusters (how many
connectors) and Redpanda Connect instances (ready or not), through the agent's upstream client."""

from __future__ import annotations

from backend.agent.upstream import Upstream, UpstreamError

# Any worker of a Connect cluster answers for all of it; a few cover one that is down, and
# each unreachable one costs a whole timeout.
CONNECT_WORKERS_ASKED = 3


def count_connectors(connect: Upstream) -> int:
    """Connectors of a Connect cluster, asking its workers in turn until one answers (the
    supervisor hands it the first CONNECT_WORKERS_ASKED of them)."""
    try:
        return len(connect.get_json("/connectors"))
    except UpstreamError as error:
        # The probe's watch already names the upstream; its issue says where and what.
        raise ConnectionError(error.detail) from error


def check_ready(redpanda_connect: Upstream) -> None:
    try:
        response = redpanda_connect.request("GET", "/ready")
    except UpstreamError as error:
        raise ConnectionError(error.detail) from error
    if response.status_code != 200:
        raise ConnectionError(f"{response.url} answered {response.status_code}")
