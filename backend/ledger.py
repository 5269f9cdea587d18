"""A ledger of what an agent reads: the items of one kind as last read, by scope (a Connect
cluster, a Kafka connection) then name, and the events of what changes in them on a feed.

A full reading of a scope replaces what the ledger knew of it: each item that is new, differs
(any field, a figure included) or is gone is published as `<kind>.created|updated|deleted`, keyed
by the item's LRN, with the item's public JSON as payload (the last known one for a deletion).
What did not change is not published. A reading that failed must simply not be applied: a
cluster that is down for a minute is not "everything deleted".

A ledger whose API acts on its items (the connectors') holds some of them back from a reading
while the upstream catches up with an action: `apply_reading(..., held=...)` names them, under
the lock, from the reading itself.

Thread-safety: readings arrive on the agent's threads and actions on the event loop; one lock
keeps the items and the order of their events together (held for dict work only). A subclass
takes the same lock for its own bookkeeping beside the ledger's, through the `_`-methods, which
expect it held. Publishing from any thread is the feed's own contract.

Bounds: what a scope holds comes from its upstream, not from a client, so at most
`max_per_scope` items are kept per scope (the first by name), the rest left out and logged once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Generic, TypeVar

from pydantic import BaseModel

from backend.feed import ChangeFeed
from backend.store.changes import CREATED, DELETED, UPDATED, Change

log = logging.getLogger(__name__)

Item = TypeVar("Item", bound=BaseModel)
# Called under the lock with a scope's (bounded) reading: the names the reading must leave as they are.
Held = Callable[[Mapping[str, Item]], Collection[str]]


class FeedLedger(Generic[Item]):
    def __init__(self, environment: str, kind: str, feed: ChangeFeed, *, name_of: Callable[[Item], str],
                 lrn_of: Callable[[Item], str], noun: str, scope_label: str, max_per_scope: int,
                 updates_supersede: bool = False) -> None:
        """`noun` and `scope_label` word the log line of a cut ("connectors", "Connect cluster").
        `updates_supersede`: an update is a measurement (figures that move every round), which
        the feed keeps only the newest of per item, so they never push a creation or a deletion
        out of its replay buffer; otherwise every state an item passes through is replayed."""
        self.environment = environment
        self.kind = kind
        self.feed = feed
        self.max_per_scope = max_per_scope
        self._name_of = name_of
        self._lrn_of = lrn_of
        self._noun = noun
        self._updates_supersede = updates_supersede
        self._scope_label = scope_label
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Item]] = {}  # scope -> name -> item
        self._cut: set[str] = set()  # scopes whose reading was cut to the bound (logged once)

    def scopes(self) -> set[str]:
        """The scopes the ledger holds items of (or has read, even empty)."""
        with self._lock:
            return set(self._items)

    def items(self, scope: str | None = None) -> list[Item]:
        """The items as last known, by scope then name; only `scope`'s when given."""
        with self._lock:
            scopes = [scope] if scope is not None else sorted(self._items)
            return [item for name in scopes for _, item in sorted(self._items.get(name, {}).items())]

    def bounded(self, scope: str, items: Iterable[Item]) -> dict[str, Item]:
        """A reading by name, cut to the first `max_per_scope` by name (logged once per scope)."""
        reading = {self._name_of(item): item for item in items}
        if len(reading) <= self.max_per_scope:
            return reading
        with self._lock:
            self._log_cut_once(scope, "its upstream lists more")
        return dict(sorted(reading.items())[: self.max_per_scope])

    def apply_reading(self, scope: str, items: Iterable[Item], held: Held | None = None) -> None:
        """A full reading of `scope`: publishes a creation, update or deletion for each item that
        differs from the last known, except those `held` names. Only for a reading that succeeded."""
        reading = self.bounded(scope, items)
        with self._lock:
            known = self._items.setdefault(scope, {})
            kept = held(reading) if held is not None else ()
            for name in [name for name in known if name not in reading and name not in kept]:
                self._publish(DELETED, known.pop(name))
            for name, item in reading.items():
                if name not in kept and known.get(name) != item:
                    self._put(scope, item)

    def forget_scope(self, scope: str) -> None:
        """The scope is no longer the environment's: its items are deleted from its view."""
        with self._lock:
            self._forget(scope)

    # Under the lock ----------------------------------------------------------------------------

    def _put(self, scope: str, item: Item) -> None:
        known = self._items.setdefault(scope, {})
        name = self._name_of(item)
        created = name not in known
        if created and len(known) >= self.max_per_scope:
            self._log_cut_once(scope, "it is full")
            return
        if known.get(name) != item:
            known[name] = item
            self._publish(CREATED if created else UPDATED, item)

    def _pop(self, scope: str, name: str) -> None:
        item = self._items.get(scope, {}).pop(name, None)
        if item is not None:
            self._publish(DELETED, item)

    def _forget(self, scope: str) -> None:
        for item in self._items.pop(scope, {}).values():
            self._publish(DELETED, item)
        self._cut.discard(scope)

    def _publish(self, verb: str, item: Item) -> None:
        self.feed.publish(Change(self.kind, verb, (self._lrn_of(item),), item.model_dump(mode="json", by_alias=True),
                                 supersedes=self._updates_supersede and verb == UPDATED))

    def _log_cut_once(self, scope: str, why: str) -> None:
        if scope not in self._cut:
            self._cut.add(scope)
            log.warning("environment %s, %s %s: only the first %d %s are followed (%s)",
                        self.environment, self._scope_label, scope, self.max_per_scope, self._noun, why)
