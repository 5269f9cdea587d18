"""The agent's watch of a cluster's streams and consumer groups: each round, one reading of every
stream (`read_stream_summaries`) and every group (`read_group_summaries`, backend/streams/), which
the supervisor hands to the `StreamLedger` of each environment naming the cluster.

The watch keeps its own long-lived admin clients (a `KafkaClients` of its own, not an
environment's: environments naming the same cluster share the watch), so a round costs the
reading and not a bootstrap. After a failure they are closed and the next round makes new ones,
as the cluster watch does with its admin client. The streams and the groups are read apart: a
half that fails is left out of the reading (the ledger keeps it as last known) and named in its
`problems`, which the environment's status shows; when both fail the probe fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backend.environments.models import KafkaConnectionSpec
from backend.streams.clients import KafkaClients
from backend.streams.groups import read_group_summaries
from backend.streams.live import StreamsReading
from backend.streams.topics import read_stream_summaries


class StreamsWatch:
    def __init__(self, spec: KafkaConnectionSpec, timeout: float) -> None:
        self.spec = spec
        self.timeout = timeout
        self._clients = KafkaClients()

    def probe(self) -> StreamsReading:
        failures: list[str] = []
        streams = self._read(read_stream_summaries, "streams", failures)
        read_at = time.monotonic()  # the streams' offsets were just read: their rates count from here
        groups = self._read(read_group_summaries, "consumer groups", failures)
        if streams is None and groups is None:
            raise ConnectionError("; ".join(failures))
        return StreamsReading(streams, groups, read_at, tuple(failures))

    def _read(self, read: Callable[[KafkaClients, KafkaConnectionSpec, float], Any], what: str,
              failures: list[str]) -> Any:
        try:
            return read(self._clients, self.spec, self.timeout)
        except Exception as exc:  # a reason to show, not to crash on; the other half may still be read
            self.close()
            failures.append(f"reading the {what} failed: {exc or type(exc).__name__}")
            return None

    def close(self) -> None:
        self._clients.close()


def streams_issues(error: str | None, reading: StreamsReading | None) -> list[str]:
    """What the environment's status says of the watch: its failure, or the half that failed."""
    if error is not None:
        return [error]
    return list(reading.problems) if reading is not None else []
