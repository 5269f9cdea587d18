"""The environment's long-lived Kafka clients for the event API: an admin client, the producers,
the consumer members, the tails. One `KafkaClients` lives with the agent app's context (one per
environment), so a client is made on first use and kept across requests, instead of paying a
bootstrap (and librdkafka's threads) on every call.

Each part is made by the module that owns it (`clients.part("producer:gzip", make)`); when the
environment's kafka-connection changes (a new password, other brokers) every part made for the
old one is closed and the next use makes a new one. A part closes through its `close()` if it
has one (librdkafka's clients and the consumer pool do)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from backend.environments.models import KafkaConnectionSpec

log = logging.getLogger(__name__)
T = TypeVar("T")


class KafkaClients:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spec: KafkaConnectionSpec | None = None
        self._parts: dict[str, Any] = {}

    def part(self, spec: KafkaConnectionSpec, name: str, make: Callable[[KafkaConnectionSpec], T]) -> T:
        """The part `name` for this connection, made with `make(spec)` when there is none yet.
        `make` runs under the lock: it must only construct (librdkafka clients connect later)."""
        with self._lock:
            if spec != self._spec:
                stale, self._parts, self._spec = self._parts, {}, spec
                _close_all(stale)
            if name not in self._parts:
                self._parts[name] = make(spec)
            return self._parts[name]

    def close(self) -> None:
        with self._lock:
            stale, self._parts, self._spec = self._parts, {}, None
        _close_all(stale)


def _close_all(parts: dict[str, Any]) -> None:
    for name, part in parts.items():
        close = getattr(part, "close", None)
        if close is None:
            continue
        try:
            close()
        except Exception:  # a client that fails to close must not keep the others open
            log.warning("closing the event API's %s failed", name, exc_info=True)
