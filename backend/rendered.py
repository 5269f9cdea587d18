"""Answers kept as rendered JSON since each resource's last change, so a GET costs a dict lookup
instead of a store read and a pydantic model per item (docs/architecture.md, the read path).

A `RenderedCollection` holds every resource of one kind: loaded from the store once, on first
use, then kept current by the change feed, which sees every committed write. The feed calls
`apply` while the store still holds its write lock, before the write returns to its caller, so
a client's GET never answers older than a write that same client made (read-your-writes).

Why the first load cannot miss a write: it reads the store while holding the collection's lock,
and a write's `apply` waits for that lock. A write committed before the load's read is in what
the load read; one committed after it is applied on top once the load is done. Changes applied
before the first load are ignored because the load will see them.

Each item is stored as its record and rendered on first read (memoised), so a burst of writes
nobody reads (an agent round over 200 environments) costs no rendering at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Response

from backend.store.changes import DELETED, Change

Key = tuple[str, ...]
JSON = "application/json"


class _Item:
    __slots__ = ("record", "rendered")

    def __init__(self, record: Any) -> None:
        self.record = record
        self.rendered: bytes | None = None


def json_response(body: bytes, **kwargs: Any) -> Response:
    """Already-rendered JSON, sent as it is: no encoder, no validation of a response model."""
    return Response(content=body, media_type=JSON, **kwargs)


class RenderedCollection:
    """Every resource of one `kind`, keyed as its changes are (`Change.key`), each with its
    public JSON. `parent` names the kind whose deletion removes this kind's resources under it
    without changes of their own (the store's cascading delete: an environment's connections)."""

    def __init__(self, kind: str, load: Callable[[], Iterable[tuple[Key, Any]]], render: Callable[[Any], bytes],
                 parent: str | None = None) -> None:
        self.kind = kind
        self.parent = parent
        self._load = load
        self._render = render
        self._lock = threading.Lock()
        self._items: dict[Key, _Item] | None = None  # None until the first read loads them
        self._listings: dict[Key, bytes] = {}  # joined `{"items":[...]}` answers, per key prefix
        self._version = 0  # counts applied changes, so a listing built across one is not kept

    def _loaded(self) -> dict[Key, _Item]:
        items = self._items
        if items is None:
            with self._lock:
                if self._items is None:
                    self._items = {key: _Item(record) for key, record in self._load()}
                items = self._items
        return items

    def _bytes(self, item: _Item) -> bytes:
        rendered = item.rendered
        if rendered is None:  # two readers may both render: the same record gives the same bytes
            rendered = item.rendered = self._render(item.record)
        return rendered

    def get(self, key: Key) -> bytes | None:
        item = self._loaded().get(key)
        return None if item is None else self._bytes(item)

    def contains(self, key: Key) -> bool:
        return key in self._loaded()

    def listing(self, prefix: Key = ()) -> bytes:
        """`{"items":[...]}` of the resources whose key starts with `prefix`, in key order (the
        store's order: names sort the same in SQLite and Python)."""
        listing = self._listings.get(prefix)
        if listing is None:
            items = self._loaded()
            with self._lock:  # a consistent snapshot of the items; rendering happens outside the lock
                version = self._version
                chosen = [items[key] for key in sorted(items) if key[:len(prefix)] == prefix]
            listing = b'{"items":[' + b",".join(self._bytes(item) for item in chosen) + b"]}"
            with self._lock:
                if self._version == version:  # else a change landed meanwhile and this one is stale
                    self._listings[prefix] = listing
        return listing

    def apply(self, change: Change) -> None:
        # Superseding changes count too: an agent's status update is one (backend/store/changes.py).
        if change.kind != self.kind and change.kind != self.parent:
            return
        with self._lock:
            if self._items is None:
                return  # not loaded yet: the load will read this write from the store
            self._version += 1
            self._listings.clear()
            if change.kind == self.parent:
                if change.verb == DELETED:
                    for key in [k for k in self._items if k[:len(change.key)] == change.key]:
                        del self._items[key]
            elif change.data is None:
                self._items.pop(change.key, None)
            else:
                self._items[change.key] = _Item(change.data)


class RenderedCache:
    """The collections HQ serves from rendered JSON, fed every change by the change feed."""

    def __init__(self, *collections: RenderedCollection) -> None:
        self.collections = {c.kind: c for c in collections}

    def __getitem__(self, kind: str) -> RenderedCollection:
        return self.collections[kind]

    def apply(self, change: Change) -> None:
        for collection in self.collections.values():
            collection.apply(change)
