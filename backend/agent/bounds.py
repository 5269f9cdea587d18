"""How much of a user's lists the agent acts on: a few entries, whatever a list holds.

The models bound what a request may send, but stored specs predate the bounds, and a probe's
cost (threads, sockets, seconds of timeouts, the length of an issue line) must not follow a
list's length either way."""

from __future__ import annotations

from typing import Any


def first_distinct(items: list[Any], limit: int) -> list[Any]:
    """The first `limit` distinct items, in order; stops reading there however long `items` is."""
    distinct: list[Any] = []
    for item in items:
        if len(distinct) == limit:
            break
        if item not in distinct:  # compares, not hashes: a stored list may hold anything
            distinct.append(item)
    return distinct


def with_first_distinct(spec: dict[str, Any], field: str, limit: int) -> dict[str, Any]:
    """A stored spec whose list `field` is cut to its first `limit` distinct entries, before it
    is validated: validating a long list costs as much as using it."""
    items = spec.get(field)
    return {**spec, field: first_distinct(items, limit)} if isinstance(items, list) else spec
