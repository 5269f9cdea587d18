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

The "apply a full reading, diff, publish" core is `FeedLedger` (backend/ledger.py), shared with
the event API's stream ledger; the actions and their holds are this ledger's own, under the
core's lock. Thread-safety: the supervisor's thread applies readings while the event loop
applies actions; one lock keeps the ledger and the order of its events together (held for dict
work only, never for I/O or mapping, so an async route may take it on the loop).

Bounds: what a cluster holds comes from its worker, not from a client, so it is cut here: at
most `max_connectors_per_cluster` connectors per cluster (the first by name; the rest are left
out and logged once), and as many remembered actions. The clusters are the environment's
registered ones. The feed's replay buffer and subscriber queues are bounded as HQ's are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Literal

from backend.connect.models import ConnectorListItem, ConnectStatus, SimpleTask
from backend.feed import ChangeFeed
from backend.ledger import FeedLedger

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


class ConnectorLedger(FeedLedger[ConnectorListItem]):
    """The connectors of one environment, as last known, and the feed of their changes."""

    def __init__(self, environment: str, *, max_connectors_per_cluster: int = MAX_CONNECTORS_PER_CLUSTER,
                 replay_events: int = REPLAY_EVENTS, subscriber_queue_events: int = SUBSCRIBER_QUEUE_EVENTS) -> None:
        super().__init__(environment, CONNECTOR_KIND, ChangeFeed(replay_events, subscriber_queue_events),
                         name_of=lambda item: item.name, lrn_of=lambda item: item.lrn, noun="connectors",
                         scope_label="Connect cluster", max_per_scope=max_connectors_per_cluster)
        # When each connector was last acted on through the API, and the state the action moves it
        # to (None: as read), until a reading settles it.
        self._acted: dict[str, dict[str, tuple[float, Expected]]] = {}

    def clusters(self) -> set[str]:
        """The clusters the ledger holds connectors of (or has read, even empty)."""
        return self.scopes()

    def apply_cluster(self, cluster: str, items: Iterable[ConnectorListItem],
                      read_started: float | None = None) -> None:
        """A full reading of `cluster`, begun at `read_started` (monotonic; now when not given):
        publishes a creation, update or deletion for each connector that differs from the last
        known. Only for a reading that succeeded: a failed one is not applied at all."""
        started = time.monotonic() if read_started is None else read_started

        def unsettled(reading: Mapping[str, ConnectorListItem]) -> set[str]:
            acted = self._acted.get(cluster, {})
            for name in [name for name in acted if _settles(acted[name], reading.get(name), started)]:
                del acted[name]
            return set(acted)

        self.apply_reading(cluster, items, held=unsettled)

    def apply_one(self, item: ConnectorListItem, expected: ConnectStatus | None = None) -> None:
        """One connector as the API just read it after an action (a create, a state change);
        `expected`: the state the action moves it to, shown now and held until a reading agrees."""
        if expected is not None:
            item = item.model_copy(update={"state": expected, "tasks": _tasks_in(expected, item.tasks)})
        with self._lock:
            self._acted_on(item.cluster, item.name, expected)
            self._put(item.cluster, item)

    def remove(self, cluster: str, name: str) -> None:
        """A connector the API just deleted."""
        with self._lock:
            self._acted_on(cluster, name, GONE)
            self._pop(cluster, name)

    def forget_cluster(self, cluster: str) -> None:
        """The cluster is no longer registered on the environment: its connectors are deleted
        from the environment's view."""
        with self._lock:
            self._forget(cluster)
            self._acted.pop(cluster, None)

    def _acted_on(self, cluster: str, name: str, expected: Expected) -> None:
        acted = self._acted.setdefault(cluster, {})
        acted.pop(name, None)
        acted[name] = (time.monotonic(), expected)
        if len(acted) > self.max_per_scope:
            del acted[next(iter(acted))]  # the oldest action: a reading has long settled it


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
