"""LiveFeed: follows one SSE endpoint of the HQ for as long as the console runs.

It resumes with `Last-Event-ID` after any drop, backs off while the server is away (the
state goes connecting -> live -> reconnecting -> offline and back to live), parses each event
once into a typed FeedEvent, and turns a `resync` event into a Resync. It never raises: a
console must not die because its server went away, nor because one event did not parse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import StrEnum

import httpx
from httpx_sse import aconnect_sse
from pydantic import ValidationError

from console.client.events import FeedEvent, Resync, parse_event
from console.client.http import HQClient

log = logging.getLogger(__name__)

# Reconnect delays in seconds; the last repeats. After `OFFLINE_AFTER` failed tries in a row
# the state says offline rather than reconnecting (it keeps trying).
BACKOFF = (0.5, 1, 2, 4, 8)
OFFLINE_AFTER = 3


class FeedState(StrEnum):
    connecting = "connecting"
    live = "live"
    reconnecting = "reconnecting"
    offline = "offline"


OnEvent = Callable[[FeedEvent | Resync], None]
OnState = Callable[[FeedState, str], None]


class LiveFeed:
    def __init__(self, client: HQClient, path: str, on_event: OnEvent, on_state: OnState, *,
                 idle_timeout: float = 45.0) -> None:
        self.client = client
        self.path = path
        self.on_event = on_event
        self.on_state = on_state
        self.last_event_id: int | None = None
        # The server pings every 15 s; silence for longer than this means a dead connection.
        self.idle_timeout = idle_timeout

    async def run(self) -> None:
        self.on_state(FeedState.connecting, "")
        while True:
            try:
                await self._follow()
                reason = "the server closed the stream"
            except _Rejected as exc:
                reason = str(exc)
            except (httpx.TransportError, ValueError) as exc:
                reason = str(exc) or type(exc).__name__
            self._failures += 1
            delay = BACKOFF[min(self._failures, len(BACKOFF)) - 1]
            state = FeedState.offline if self._failures >= OFFLINE_AFTER else FeedState.reconnecting
            self.on_state(state, f"{reason}; retrying in {delay:g}s")
            await asyncio.sleep(delay)

    _failures = 0

    async def _follow(self) -> None:
        headers = {"Last-Event-ID": str(self.last_event_id)} if self.last_event_id is not None else {}
        timeout = httpx.Timeout(10.0, read=self.idle_timeout)
        async with aconnect_sse(self.client.http, "GET", self.path, headers=headers, timeout=timeout) as source:
            if source.response.status_code != 200:
                await source.response.aread()
                raise _Rejected(f"HTTP {source.response.status_code}: {_title(source.response)}")
            async for message in source.aiter_sse():
                if message.id and message.id.isdigit():
                    self.last_event_id = int(message.id)
                if message.event == "ready":
                    self._failures = 0
                    self.on_state(FeedState.live, "")
                    continue
                if message.event == "resync":
                    self.on_event(Resync(self.path))
                    continue
                try:
                    event = parse_event(message.event, message.data or "{}")
                except ValidationError as exc:
                    log.warning("skipped a %s event that does not parse: %s", message.event, exc)
                    continue
                if event is not None:
                    self.on_event(event)


class _Rejected(Exception):
    pass


def _title(response: httpx.Response) -> str:
    try:
        return str(response.json().get("title", response.reason_phrase))
    except ValueError:
        return response.reason_phrase
