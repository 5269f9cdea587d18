"""The agent's watch of a cluster's streams and consumer groups: each round, one reading of every
stream (`read_stream_summaries`) and every group (`read_group_summaries`, backend/streams/), which
the supervisor hands to the `StreamLedger` of each environment naming the cluster.

The watch keeps its own long-lived admin clients (a `KafkaClients` of its own, not an
environment's: environments naming the same cluster share the watch), so a round costs the
reading and not a bootstrap. After a failure they are closed and the next round makes new ones,
as the cluster watch does with its admin client. A reading is whole or not at all: if either
half fails the round's reading is a failure, which the ledger never applies."""

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
        try:
            streams = read_stream_summaries(self._clients, self.spec, self.timeout)
            read_at = time.monotonic()  # the streams' offsets were just read: their rates count from here
            return StreamsReading(streams, read_group_summaries(self._clients, self.spec, self.timeout), read_at)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        self._clients.close()
