"""The change feed: every write to the state store becomes one event here, and the SSE
endpoints read from it.

Sequence numbers start from the wall clock in microseconds, then count up by one. That keeps
ids monotonic across server restarts, so a client that reconnects with a `Last-Event-ID`
from before a restart is recognised as behind the replay buffer and told to resync, rather
than silently matched against an unrelated event that reused its number.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """What the store changed: `kind` names the resource, `verb` is created/updated/deleted."""

    kind: str
    verb: str
    key: tuple[str, ...]
    data: Any  # the store record after the change; None for a deletion


@dataclass(frozen=True)
class Event:
    id: int
    change: Change

    @property
    def name(self) -> str:
        return f"{self.change.kind}.{self.change.verb}"


class Resync(Exception):
    """The client's last event has left the replay buffer: it must refetch."""


class Subscription:
    def __init__(self, feed: ChangeFeed, loop: asyncio.AbstractEventLoop) -> None:
        self._feed = feed
        self._loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        # The feed's last id when this subscription began: every later event arrives on the queue.
        self.position = 0

    def deliver(self, event: Event) -> None:
        self._loop.call_soon_threadsafe(self.queue.put_nowait, event)

    def close(self) -> None:
        self._feed._unsubscribe(self)


class ChangeFeed:
    """Thread-safe publish (writes happen on worker threads), asyncio-side subscribe."""

    def __init__(self, replay_events: int = 4096) -> None:
        self._lock = threading.Lock()
        self._last_id = time.time_ns() // 1000
        self._buffer: deque[Event] = deque(maxlen=replay_events)
        self._subscribers: set[Subscription] = set()

    @property
    def last_id(self) -> int:
        return self._last_id

    def publish(self, change: Change) -> Event:
        with self._lock:
            self._last_id += 1
            event = Event(self._last_id, change)
            self._buffer.append(event)
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription.deliver(event)
        return event

    def subscribe(self, last_event_id: int | None = None) -> tuple[Subscription, list[Event]]:
        """Subscribe, returning the events after `last_event_id` that the client missed.
        Raises Resync when they are no longer all in the buffer."""
        subscription = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            missed: list[Event] = []
            if last_event_id is not None and last_event_id != self._last_id:
                oldest = self._buffer[0].id if self._buffer else self._last_id + 1
                if last_event_id > self._last_id or last_event_id < oldest - 1:
                    raise Resync()
                missed = [e for e in self._buffer if e.id > last_event_id]
            subscription.position = self._last_id
            self._subscribers.add(subscription)
        return subscription, missed

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)
