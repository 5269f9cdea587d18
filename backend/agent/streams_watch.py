"""The agent's watch of a cluster's streams and consumer groups: each round, one reading of every
stream (`read_stream_summaries`) and every group (`read_group_summaries`, backend/streams/), which
the supervisor hands to the `StreamLedger` of each environment naming the cluster.

The watch keeps its own long-lived admin clients (a `KafkaClients` of its own, not an
environment's: environments naming the same cluster share the watch), so a round costs the
reading and not a bootstrap. They are kept across failures too (librdkafka reconnects by itself,
and the admin's kafka-python clients reopen after a failure): new clients each failed round
left librdkafka's threads and sockets behind faster than they were freed.

The streams are read first: when they cannot be read the probe fails (the cluster is down, most
likely, and the groups are not asked: a ListGroups timing out on a cluster that is down kept the
admin's clients alive after their close). Groups that cannot be read are left out of the reading
(the ledger keeps them as last known) and named in its `problems`, which the environment's
status shows; the streams are still applied."""

from __future__ import annotations

import time

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
        streams = read_stream_summaries(self._clients, self.spec, self.timeout)
        read_at = time.monotonic()  # the streams' offsets were just read: their rates count from here
        try:
            groups = read_group_summaries(self._clients, self.spec, self.timeout)
        except Exception as exc:  # a reason to show, not to crash on: the streams are still applied
            return StreamsReading(streams, None, read_at, (f"reading the consumer groups failed: {exc}",))
        return StreamsReading(streams, groups, read_at)

    def close(self) -> None:
        self._clients.close()


def streams_issues(error: str | None, reading: StreamsReading | None) -> list[str]:
    """What the environment's status says of the watch: its failure, or the half that failed."""
    if error is not None:
        return [error]
    return list(reading.problems) if reading is not None else []
