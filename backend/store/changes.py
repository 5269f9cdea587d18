"""What a store write tells the rest of HQ: one `Change` per write, handed to a `Publisher`.

The store defines this and the change feed consumes it, so the store never depends on the
feed (an import contract keeps it so). Kinds name the resource ("environment", "k2k", a
resource kind such as "kafka-connection"); verbs are the constants below, and the feed names an
event `<kind>.<verb>` from them (docs/architecture.md, the live-update path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"
METRICS = "metrics"  # a measurement, not a write: published with supersedes=True

ENVIRONMENT_KIND = "environment"
K2K_KIND = "k2k"
# A token's change carries no data (never a hash): it tells whoever remembers tokens to forget them.
TOKEN_KIND = "token"


@dataclass(frozen=True)
class Change:
    """What the store changed: `kind` names the resource, `verb` is one of the verbs above."""

    kind: str
    verb: str
    key: tuple[str, ...]
    data: Any  # the store record after the change; None for a deletion
    supersedes: bool = False  # a measurement: only the newest per (kind, key) is worth replaying


class Publisher(Protocol):
    """Where changes go once committed; the change feed's `publish` is one."""

    def __call__(self, change: Change, /) -> Any: ...


def discard(_: Change) -> None:
    """The publisher of a store nobody listens to (tools, tests)."""
