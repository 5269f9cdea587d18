"""Async calls to one Kafka Connect cluster's REST API, through the agent's upstream client.

Answers are the worker's JSON as it sent it (backend/connect/mapping.py turns them into the
family's shapes). An error status becomes a `ConnectApiError` carrying the worker's status and
message, except a 409 the worker gives while it rebalances: that one is retried with a bounded
backoff first, since the same request succeeds once the group has settled. A 409 "already
exists" is never retried. A worker that cannot be reached raises the upstream's UpstreamError."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import quote

import httpx

from backend.agent.upstream import Upstream, UpstreamError
from backend.connect.errors import ConnectApiError
from backend.connect.models import DOT_SEGMENTS

# The worker's answers while its group rebalances (Connect's HerderRequestHandler: 409s; a
# worker that has just taken a request before a rebalance it expects: a 500). Anything else it
# answers 409 for (a connector that already exists) is final.
REBALANCE_MESSAGES = ("Cannot complete request because of a conflicting operation",
                      "Cannot complete request momentarily due to stale configuration",
                      "rebalance")
REBALANCE_STATUSES = (409, 500)
REBALANCE_RETRY_SECONDS = 5.0
FIRST_RETRY_DELAY = 0.1
MAX_RETRY_DELAY = 1.0
# A worker's error message is quoted to the user; some list every plugin they know.
MAX_QUOTED_MESSAGE = 500


_HTML_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _segment(value: str, field: str = "connector") -> str:
    """A name as one path segment: connector names may hold `?`, spaces. `.` and `..` cannot be
    one: httpx resolves them as dot segments, and `/connectors/..` is the worker's root."""
    if value in DOT_SEGMENTS:
        raise ConnectApiError.bad(field, f"{value!r} cannot be named in a worker's path (a dot segment)")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):  # Connect's names hold none; its server refuses them
        raise ConnectApiError.bad(field, "must not contain control characters")
    return quote(value, safe="")


def worker_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message) if message else (response.text.strip() or f"HTTP {response.status_code}")
    if not message and (title := _HTML_TITLE.search(text)):  # Jetty's own error page: its title says it
        text = title.group(1).strip()
    return text if len(text) <= MAX_QUOTED_MESSAGE else text[:MAX_QUOTED_MESSAGE] + "…"


def is_rebalancing(response: httpx.Response) -> bool:
    if response.status_code not in REBALANCE_STATUSES:
        return False
    message = worker_message(response).lower()
    return not is_already_there(response) and any(text.lower() in message for text in REBALANCE_MESSAGES)


def is_already_there(response: httpx.Response) -> bool:
    return response.status_code == 409 and "already exists" in worker_message(response).lower()


class ConnectClient:
    """One Connect cluster (`cluster` is its name in the environment) as the agent reaches it."""

    def __init__(self, upstream: Upstream, cluster: str) -> None:
        self.upstream = upstream
        self.cluster = cluster

    async def _call(self, method: str, path: str, *, creating: bool = False, **kwargs: Any) -> httpx.Response:
        """`method path`, retried while the worker rebalances. `creating`: a worker that said
        "rebalance" may have written the connector all the same, so an "already exists" on a
        retry is that first attempt's success, not a conflict."""
        deadline = time.monotonic() + REBALANCE_RETRY_SECONDS
        delay = FIRST_RETRY_DELAY
        retried = False
        while True:
            response = await self.upstream.arequest(method, path, **kwargs)
            if creating and retried and is_already_there(response):
                return response
            if not is_rebalancing(response):
                break
            retried = True
            if time.monotonic() + delay > deadline:
                raise ConnectApiError(409, f"{self.upstream.name} was still rebalancing after "
                                           f"{REBALANCE_RETRY_SECONDS:g}s of retries ({worker_message(response)}); "
                                           "try again.", error_type="rebalancing")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)
        if response.is_error:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> ConnectApiError:
        message = worker_message(response)
        status = response.status_code
        if status in (400, 404, 409):
            return ConnectApiError(status, message)
        # The worker failed (500) or answered something the family has no word for: the worker
        # is at fault, as for an upstream that does not answer.
        return ConnectApiError(502, f"{self.upstream.name} at {response.url} answered HTTP {status}: {message}",
                               worker_status=status, worker_message=message)

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._decoded(await self._call(method, path, **kwargs))

    def _decoded(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(self.upstream.name, str(response.url), "answered with a body that is not JSON") from exc

    # the cluster

    async def info(self) -> dict[str, Any]:
        return await self._json("GET", "/")

    async def plugins(self) -> list[dict[str, Any]]:
        return await self._json("GET", "/connector-plugins")

    async def plugin_config(self, class_name: str) -> list[dict[str, Any]]:
        return await self._json("GET", f"/connector-plugins/{_segment(class_name, 'plugin')}/config")

    async def validate(self, class_name: str, config: dict[str, str]) -> dict[str, Any]:
        path = f"/connector-plugins/{_segment(class_name, 'connector.class')}/config/validate"
        return await self._json("PUT", path, json=config)

    async def loggers(self) -> dict[str, Any]:
        return await self._json("GET", "/admin/loggers")

    async def logger(self, name: str) -> dict[str, Any]:
        return await self._json("GET", f"/admin/loggers/{_segment(name, 'logger')}")

    async def set_logger(self, name: str, level: str) -> list[str]:
        """The loggers whose level changed (the worker's answer)."""
        return await self._json("PUT", f"/admin/loggers/{_segment(name, 'logger')}", json={"level": level})

    # connectors

    async def expanded(self) -> dict[str, Any]:
        """Every connector with its status and info, in one call (not one per connector)."""
        response = await self._call("GET", "/connectors", params=[("expand", "status"), ("expand", "info")])
        answer = self._decoded(response)
        if not isinstance(answer, dict):  # a worker before Kafka 2.3 ignores `expand`: names only
            raise UpstreamError(self.upstream.name, str(response.url), "does not expand its connector list "
                                "(a Kafka Connect before 2.3): its connectors are left out")
        return answer

    async def connector(self, name: str) -> dict[str, Any]:
        """`{name, config, tasks, type}`."""
        return await self._json("GET", f"/connectors/{_segment(name)}")

    async def config(self, name: str) -> dict[str, str]:
        return await self._json("GET", f"/connectors/{_segment(name)}/config")

    async def status(self, name: str) -> dict[str, Any]:
        return await self._json("GET", f"/connectors/{_segment(name)}/status")

    async def topics(self, name: str) -> list[str]:
        answer = await self._json("GET", f"/connectors/{_segment(name)}/topics")
        return list((answer.get(name) or {}).get("topics", []))

    async def create(self, name: str, config: dict[str, str], initial_state: str | None) -> None:
        body: dict[str, Any] = {"name": name, "config": config}
        if initial_state is not None:
            body["initial_state"] = initial_state  # KIP-980, Connect 3.5+
        await self._call("POST", "/connectors", creating=True, json=body)

    async def put_config(self, name: str, config: dict[str, str]) -> bool:
        """Creates or updates; True when the connector was created."""
        response = await self._call("PUT", f"/connectors/{_segment(name)}/config", json=config)
        return response.status_code == 201

    async def delete(self, name: str) -> None:
        await self._call("DELETE", f"/connectors/{_segment(name)}")

    async def change_state(self, name: str, verb: str) -> None:
        """`pause`, `resume` or `stop` (a STOPPED connector starts again on `resume`)."""
        await self._call("PUT", f"/connectors/{_segment(name)}/{verb}")

    async def restart(self, name: str, *, include_tasks: bool, only_failed: bool) -> bool:
        """KIP-745's restart; True when the worker took it and is still carrying it out (202)."""
        params = {"includeTasks": str(include_tasks).lower(), "onlyFailed": str(only_failed).lower()}
        response = await self._call("POST", f"/connectors/{_segment(name)}/restart", params=params)
        return response.status_code == 202

    async def restart_task(self, name: str, task: int) -> None:
        await self._call("POST", f"/connectors/{_segment(name)}/tasks/{task}/restart")

    # offsets (KIP-875)

    async def offsets(self, name: str) -> dict[str, Any]:
        return await self._json("GET", f"/connectors/{_segment(name)}/offsets")

    async def alter_offsets(self, name: str, offsets: list[dict[str, Any]]) -> dict[str, Any]:
        return await self._json("PATCH", f"/connectors/{_segment(name)}/offsets", json={"offsets": offsets})

    async def reset_offsets(self, name: str) -> dict[str, Any]:
        return await self._json("DELETE", f"/connectors/{_segment(name)}/offsets")
