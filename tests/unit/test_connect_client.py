"""Which of a worker's answers mean "rebalancing, ask again" (retried for a few seconds) and
which are final; tests/api/test_connect_routes.py has the retries against a real HTTP server."""

from __future__ import annotations

import httpx
import pytest

from backend.connect.client import is_rebalancing, worker_message


def answer(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error_code": status, "message": message})


@pytest.mark.parametrize(("status", "message"), [
    (409, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"),
    (409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config "
          "change)"),
    (500, "Request cannot be completed because a rebalance is expected"),
])
def test_a_rebalance_is_asked_again(status, message):
    assert is_rebalancing(answer(status, message))


@pytest.mark.parametrize(("status", "message"), [
    (409, "Connector orders-sink already exists"),
    (409, "Connector rebalance-tester already exists"),  # a name is no rebalance
    (500, "Failed to find any class that implements Connector"),
    (400, "Connector configuration is invalid"),
])
def test_anything_else_is_final(status, message):
    assert not is_rebalancing(answer(status, message))


def test_a_long_or_missing_message_is_quoted_bounded():
    assert len(worker_message(answer(500, "x" * 5000))) <= 501
    assert worker_message(httpx.Response(502, text="")) == "HTTP 502"
