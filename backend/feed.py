"""The change feed: every write to the state store becomes one event here, and the SSE
endpoints read from it.

Sequence numbers start from the wall clock in microseconds, then count up by one. That keeps
ids monotonic across server restarts, so a client that reconnects with a `Last-Event-ID`
from before a restart is recognised as behind the replay buffer and told to resync, rather
than silently matched against an unrelated event that reused its number.

Measurements (`k2k.metrics`, and the agent's status of an environment, which the store publishes
as `environment.updated` like a user's edit) are published as *superseding* changes: each
replaces the last one for its key. The replay buffer keeps only the newest per key, the way a
compacted topic would, so a client that resumes still gets the current figures, while a steady
stream of measurements (500 apps every 3 s is 166 events/s) neither pushes the state changes
out of the buffer nor keeps thousands of stale metric trees alive for the garbage collector to walk.

Each subscriber's queue is bounded: one that stops reading (a stalled client, a full TCP
window) would otherwise make the server hold every event for it. One that falls a whole queue
behind is dropped and told to resync, the same way a client that resumes from too far back is.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from backend.store.changes import CREATED, DELETED, Change


@dataclass(frozen=True)
class Event:
    id: int
    change: Change
    # What each reader made of the event (an SSE frame per render), so a hundred subscribers
    # render it once. Only touched on the event loop's thread.
    rendered: dict[object, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.change.kind}.{self.change.verb}"


class Resync(Exception):
    """The client's last event has left the replay buffer: it must refetch."""


class FellBehind(Resync):
    """The subscriber's queue filled up: it was dropped and must refetch."""


_FELL_BEHIND = object()  # the last item on a dropped subscriber's queue


class Subscription:
    def __init__(self, feed: ChangeFeed, loop: asyncio.AbstractEventLoop, queue_events: int) -> None:
        self._feed = feed
        self._loop = loop
        self.queue: asyncio.Queue[Event | object] = asyncio.Queue(maxsize=queue_events)
        # The feed's last id when this subscription began: every later event arrives on the queue.
        self.position = 0
        self.dropped = False
        # Where a dropped subscriber resumes once it has refetched: nothing before it is owed to it.
        self.dropped_at: int | None = None

    def deliver(self, event: Event) -> None:
        """Called under the feed's lock on any thread: it only schedules (never blocks the
        publisher), and the queue's bound is checked on the subscriber's own loop."""
        if not self.dropped:
            self._loop.call_soon_threadsafe(self._enqueue, event)

    def _enqueue(self, event: Event) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drop()

    def _drop(self) -> None:
        self.dropped, self.dropped_at = True, self._feed.last_id
        self.close()
        while not self.queue.empty():  # the events it will never read go now, not when it disconnects
            self.queue.get_nowait()
        self.queue.put_nowait(_FELL_BEHIND)

    async def next_event(self) -> Event:
        """The next event; raises FellBehind once the subscriber was dropped."""
        item = await self.queue.get()
        if item is _FELL_BEHIND:
            raise FellBehind()
        return item

    def close(self) -> None:
        self._feed._unsubscribe(self)


class ChangeFeed:
    """The store's `Publisher`. Thread-safe publish (writes happen on worker threads), asyncio-side subscribe."""

    def __init__(self, replay_events: int = 4096, subscriber_queue_events: int = 1024) -> None:
        self._subscriber_queue_events = subscriber_queue_events
        self._lock = threading.Lock()
        self._last_id = time.time_ns() // 1000
        self._buffer: deque[Event] = deque(maxlen=replay_events)
        # Newest id of a state change no longer in the buffer: a client behind it must resync.
        self._forgotten = self._last_id
        self._newest: dict[tuple[str, tuple[str, ...]], Event] = {}  # superseding changes, per key
        # Keys whose late measurements are dropped, the newest deletions first to stay (a dict
        # keeps insertion order). A late measurement comes from a round that began before the
        # delete, seconds earlier; remembering every deletion ever made grew without bound.
        self._deleted: dict[tuple[str, tuple[str, ...]], None] = {}
        self._deletions_remembered = replay_events
        self._subscribers: set[Subscription] = set()
        self._observers: list[Callable[[Change], None]] = []

    def observe(self, observer: Callable[[Change], None]) -> None:
        """Calls `observer` with every change as it is published, in feed order, before the change
        is numbered: whoever reads `last_id` finds every change up to it already observed (a list
        answered from the rendered cache with that id as its resume point misses nothing)."""
        self._observers.append(observer)

    @property
    def last_id(self) -> int:
        return self._last_id

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def remembered_deletions(self) -> int:
        return len(self._deleted)

    def publish(self, change: Change) -> Event | None:
        """Numbers the change and hands it to every subscriber; None when it was dropped: a
        measurement of something already deleted (a metrics round may finish after the delete)."""
        with self._lock:
            key = (change.kind, change.key)
            if change.supersedes and key in self._deleted:
                return None
            for observer in self._observers:
                observer(change)
            self._last_id += 1
            event = Event(self._last_id, change)
            if change.supersedes:
                self._newest[key] = event
            else:
                if change.verb == DELETED:
                    self._newest.pop(key, None)
                    self._deleted.pop(key, None)
                    self._deleted[key] = None
                    if len(self._deleted) > self._deletions_remembered:
                        del self._deleted[next(iter(self._deleted))]
                elif change.verb == CREATED:
                    self._deleted.pop(key, None)
                if len(self._buffer) == self._buffer.maxlen:
                    self._forgotten = self._buffer[0].id
                self._buffer.append(event)
            # Delivered under the lock, so every subscriber receives events in id order even when
            # the store and the metrics thread publish at once (call_soon_threadsafe never blocks).
            for subscription in self._subscribers:
                subscription.deliver(event)
        return event

    def subscribe(self, last_event_id: int | None = None) -> tuple[Subscription, list[Event]]:
        """Subscribe, returning the events after `last_event_id` that the client missed.
        Raises Resync when they are no longer all in the buffer."""
        subscription = Subscription(self, asyncio.get_running_loop(), self._subscriber_queue_events)
        with self._lock:
            missed: list[Event] = []
            if last_event_id is not None and last_event_id != self._last_id:
                if last_event_id > self._last_id or last_event_id < self._forgotten:
                    raise Resync()
                missed = [e for e in self._buffer if e.id > last_event_id]
                missed += [e for e in self._newest.values() if e.id > last_event_id]
                missed.sort(key=lambda e: e.id)
            subscription.position = self._last_id
            self._subscribers.add(subscription)
        return subscription, missed

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)
