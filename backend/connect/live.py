"""An environment's connectors as last read, and the feed of what changes in them.

`ConnectorLedger` keeps the last known `ConnectorListItem` of every connector of the
environment's Connect clusters, by (cluster, name), and publishes on its own `ChangeFeed` (the
agent's, not HQ's) `connector.created|updated|deleted` for what changed, key = the connector's
LRN, payload = its list item's JSON (the last known one for a deletion). Three writers:

- the agent's Connect watch, with a full reading of one cluster every round (`apply_cluster`);
- the agent's API after each action (`apply_one`, `remove`), so the change shows at once rather
  than at the next poll;
- the agent, when a Connect cluster is unregistered from the environment (`forget_cluster`).

A cluster whose reading failed is simply not applied: its connectors stay as last known until
it answers again. A worker that is down for a minute is not "every connector deleted", and a
client following the feed would otherwise see them all go and come back.

A reading takes a while, and an action may land during it: a reading that began before an
action on a connector leaves that connector as the action set it. Readings and actions are
ordered by `time.monotonic()`. The worker also lags behind its own answers: it answers a pause
before its status says PAUSED, lists a new connector only once it has written its status, and
may list a deleted one for a moment. So an action says what it expects — a state
(`apply_one(item, expected=PAUSED)`), the connector present in any state (a create, an update),
or gone (`remove`) — and readings that disagree are held back for `EXPECTED_STATE_HOLD` seconds;
the first that agrees, or any after the hold, settles it. Otherwise a row would flicker: PAUSED,
RUNNING again for a poll, then PAUSED; or a new connector would appear, vanish and reappear.

Thread-safety: the supervisor's thread applies readings while the event loop applies actions;
one lock keeps the ledger and the order of its events together (held for dict work only, never
for I/O or mapping, so an async route may take it on the loop). Publishing from any thread is
the feed's own contract (`ChangeFeed.publish` only schedules delivery on each subscriber's
loop), as the store publishes from worker threads.

Bounds: what a cluster holds comes from its worker, not from a client, so it is cut here: at
most `max_connectors_per_cluster` connectors per cluster (the first by name; the rest are left
out and logged once), and as many remembered actions. The clusters are the environment's
registered ones. The feed's replay buffer and subscriber queues are bounded as HQ's are.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Literal

from backend.connect.models import ConnectorListItem, ConnectStatus, SimpleTask
from backend.feed import ChangeFeed
from backend.store.changes import CREATED, DELETED, UPDATED, Change

log = logging.getLogger(__name__)

CONNECTOR_KIND = "connector"
FEED_KINDS = {CONNECTOR_KIND}

# Connect clusters in the field hold hundreds to a few thousand connectors.
MAX_CONNECTORS_PER_CLUSTER = 10_000
REPLAY_EVENTS = 4096
SUBSCRIBER_QUEUE_EVENTS = 1024
# A worker carries out a pause or stop within a second or two; past this, a reading that still
# disagrees is the truth (the action failed, or somebody acted on the worker since).
EXPECTED_STATE_HOLD = 10.0
GONE = "gone"  # what a deletion expects of the next readings
Expected = ConnectStatus | Literal["gone"] | None  # None: present, in whatever state


class ConnectorLedger:
    """The connectors of one environment, as last known, and the feed of their changes."""

    def __init__(self, environment: str, *, max_connectors_per_cluster: int = MAX_CONNECTORS_PER_CLUSTER,
                 replay_events: int = REPLAY_EVENTS, subscriber_queue_events: int = SUBSCRIBER_QUEUE_EVENTS) -> None:
        self.environment = environment
        self.feed = ChangeFeed(replay_events, subscriber_queue_events)
        self.max_connectors_per_cluster = max_connectors_per_cluster
        self._lock = threading.Lock()
        self._connectors: dict[str, dict[str, ConnectorListItem]] = {}  # cluster -> name -> item
        # When each connector was last acted on through the API, and the state the action moves it
        # to (None: as read), until a reading settles it.
        self._acted: dict[str, dict[str, tuple[float, Expected]]] = {}
        self._cut: set[str] = set()  # clusters whose reading was cut to the bound (logged once)

    def clusters(self) -> set[str]:
        """The clusters the ledger holds connectors of (or has read, even empty)."""
        with self._lock:
            return set(self._connectors)

    def items(self, cluster: str | None = None) -> list[ConnectorListItem]:
        """The connectors as last known, by cluster then name; only `cluster`'s when given."""
        with self._lock:
            clusters = [cluster] if cluster is not None else sorted(self._connectors)
            return [item for name in clusters for _, item in sorted(self._connectors.get(name, {}).items())]

    def apply_cluster(self, cluster: str, items: Iterable[ConnectorListItem],
                      read_started: float | None = None) -> None:
        """A full reading of `cluster`, begun at `read_started` (monotonic; now when not given):
        publishes a creation, update or deletion for each connector that differs from the last
        known. Only for a reading that succeeded: a failed one is not applied at all."""
        reading = {item.name: item for item in items}
        started = time.monotonic() if read_started is None else read_started
        with self._lock:
            if len(reading) > self.max_connectors_per_cluster:
                reading = dict(sorted(reading.items())[: self.max_connectors_per_cluster])
                self._log_cut_once(cluster, "its worker lists more")
            known = self._connectors.setdefault(cluster, {})
            acted = self._acted.get(cluster, {})
            settled = {name for name in acted if _settles(acted[name], reading.get(name), started)}

            def applies(name: str) -> bool:
                return name not in acted or name in settled

            for name in [name for name in known if name not in reading and applies(name)]:
                self._publish(DELETED, known.pop(name))
            for name, item in reading.items():
                if applies(name) and known.get(name) != item:
                    self._put(known, item)
            for name in settled:
                del acted[name]

    def apply_one(self, item: ConnectorListItem, expected: ConnectStatus | None = None) -> None:
        """One connector as the API just read it after an action (a create, a state change);
        `expected`: the state the action moves it to, shown now and held until a reading agrees."""
        if expected is not None:
            item = item.model_copy(update={"state": expected, "tasks": _tasks_in(expected, item.tasks)})
        with self._lock:
            known = self._connectors.setdefault(item.cluster, {})
            self._acted_on(item.cluster, item.name, expected)
            if known.get(item.name) != item:
                self._put(known, item)

    def remove(self, cluster: str, name: str) -> None:
        """A connector the API just deleted."""
        with self._lock:
            self._acted_on(cluster, name, GONE)
            item = self._connectors.get(cluster, {}).pop(name, None)
            if item is not None:
                self._publish(DELETED, item)

    def forget_cluster(self, cluster: str) -> None:
        """The cluster is no longer registered on the environment: its connectors are deleted
        from the environment's view."""
        with self._lock:
            for item in self._connectors.pop(cluster, {}).values():
                self._publish(DELETED, item)
            self._acted.pop(cluster, None)
            self._cut.discard(cluster)

    def _put(self, known: dict[str, ConnectorListItem], item: ConnectorListItem) -> None:
        created = item.name not in known
        if created and len(known) >= self.max_connectors_per_cluster:
            self._log_cut_once(item.cluster, "it is full")
            return
        known[item.name] = item
        self._publish(CREATED if created else UPDATED, item)

    def _acted_on(self, cluster: str, name: str, expected: Expected) -> None:
        acted = self._acted.setdefault(cluster, {})
        acted.pop(name, None)
        acted[name] = (time.monotonic(), expected)
        if len(acted) > self.max_connectors_per_cluster:
            del acted[next(iter(acted))]  # the oldest action: a reading has long settled it

    def _publish(self, verb: str, item: ConnectorListItem) -> None:
        self.feed.publish(Change(CONNECTOR_KIND, verb, (item.lrn,), item.model_dump(mode="json", by_alias=True)))

    def _log_cut_once(self, cluster: str, why: str) -> None:
        if cluster not in self._cut:
            self._cut.add(cluster)
            log.warning("environment %s, Connect cluster %s: only the first %d connectors are followed (%s)",
                        self.environment, cluster, self.max_connectors_per_cluster, why)


def _tasks_in(state: ConnectStatus, tasks: list[SimpleTask]) -> list[SimpleTask]:
    """A connector's tasks once it is in `state`: a paused one's are paused, a stopped one has none
    (KIP-875 stops them); on a start or resume the worker's next reading says how they fare."""
    if state is ConnectStatus.PAUSED:
        return [task.model_copy(update={"state": state}) for task in tasks]
    if state is ConnectStatus.STOPPED:
        return []
    return tasks


def _settles(action: tuple[float, Expected], read: ConnectorListItem | None, started: float) -> bool:
    """Whether a reading begun at `started`, which found the connector as `read` (None: not
    listed), settles an action taken on it: it began after the action, and it agrees with what
    the action expected, or the hold is over."""
    at, expected = action
    if at > started:
        return False
    if started - at > EXPECTED_STATE_HOLD:
        return True
    if expected == GONE:
        return read is None
    return read is not None and (expected is None or read.state == expected)
