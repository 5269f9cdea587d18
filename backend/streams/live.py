"""An environment's streams (topics) and consumer groups as the agent last read them, and the feed
of what changes in them.

`StreamLedger` keeps the last known list item of every stream (`StreamSummary`, with its
`messagesPerSecond`) and every consumer group (`GroupSummary`) of the cluster the environment's
Kafka connection reaches, and publishes on its own `ChangeFeed` (the agent's, not HQ's)
`stream.created|updated|deleted` and `consumer-group.created|updated|deleted` for what changed:
key = the item's LRN (`kafka:topic/…`, `kafka:consumer-group/…`, backend/lrn.py), payload = the
item with its LRN (`LiveStream`, `LiveGroup`), the last known one for a deletion. A figure that
changes (messages, size, a rate, a lag) is a change; what did not change is not published.

Its one writer is the agent's round (backend/agent/streams_watch.py), with a full reading of the
cluster; a reading that failed is never applied, so a cluster that is down for a minute is not
"every stream deleted". Groups that could not be read are not applied while the streams are.
The diffing is `FeedLedger`'s (backend/ledger.py), the one the connector ledger uses; the rates
are `WriteRates`' (backend/streams/rates.py).

An update is a measurement on the feed (`supersedes`): the replay buffer keeps only the newest
per item, so a client that resumes gets each item's current figures, and a cluster whose every
topic moves each round never pushes a creation or a deletion out of the buffer.

Bounds: at most `max_streams` streams and `max_groups` groups are followed (the first by name; the
rest are left out, logged once), and rates are kept only for those. The feed's replay buffer
holds 4,096 creations and deletions; a subscriber's queue holds one round's worth of events.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from backend.feed import ChangeFeed
from backend.ledger import FeedLedger
from backend.lrn import kafka_consumer_group_lrn, kafka_topic_lrn, resource_lrn
from backend.streams.models import GroupSummary, LiveGroup, LiveStream, StreamSummary
from backend.streams.rates import RATE_WINDOW_SECONDS, WriteRates

STREAM_KIND = "stream"
GROUP_KIND = "consumer-group"
FEED_KINDS = {STREAM_KIND, GROUP_KIND}

# A cluster in the field holds hundreds to a few thousand topics (5,000 is issue 13's figure).
MAX_STREAMS = 10_000
MAX_GROUPS = 10_000
# Creations and deletions; the figures' updates are measurements, kept only the newest per item.
REPLAY_EVENTS = 4096
# A round may change every item at once (the first reading creates them all; a busy cluster's
# totals all move): a subscriber holds a whole round's events, or it would be told to resync
# every round. Events are shared by all subscribers: a queue holds references.
SUBSCRIBER_QUEUE_EVENTS = MAX_STREAMS + MAX_GROUPS + 1024


@dataclass(frozen=True)
class StreamsReading:
    """One reading of a cluster: its streams, its groups (None: they could not be read, and are not
    applied), when (monotonic) the streams' offsets were read, which their rates are reckoned by,
    and why the groups could not be read."""

    streams: list[StreamSummary]
    groups: list[GroupSummary] | None
    at: float
    problems: tuple[str, ...] = ()


class StreamLedger:
    """The streams and consumer groups of one environment, as last read, and the feed of their changes."""

    def __init__(self, environment: str, *, max_streams: int = MAX_STREAMS, max_groups: int = MAX_GROUPS,
                 rate_window_seconds: float = RATE_WINDOW_SECONDS, replay_events: int = REPLAY_EVENTS,
                 subscriber_queue_events: int = SUBSCRIBER_QUEUE_EVENTS) -> None:
        self.environment = environment
        self.feed = ChangeFeed(replay_events, subscriber_queue_events)
        # Scoped by the Kafka connection's name, which the items' LRNs carry: another connection
        # (the environment's first by name changed) is another cluster, whose items are others.
        self._streams = FeedLedger[LiveStream](
            environment, STREAM_KIND, self.feed, name_of=lambda s: s.name, lrn_of=lambda s: s.lrn,
            noun="streams", scope_label="Kafka connection", max_per_scope=max_streams, updates_supersede=True)
        self._groups = FeedLedger[LiveGroup](
            environment, GROUP_KIND, self.feed, name_of=lambda g: g.groupId, lrn_of=lambda g: g.lrn,
            noun="consumer groups", scope_label="Kafka connection", max_per_scope=max_groups,
            updates_supersede=True)
        self._rate_window_seconds = rate_window_seconds
        self._rates = WriteRates(rate_window_seconds)
        self._lock = threading.Lock()  # readings are applied one at a time, in order
        self._connection: str | None = None
        self._read_at: float | None = None

    def streams(self) -> list[LiveStream]:
        """The streams as last read, by name."""
        return self._streams.items()

    def groups(self) -> list[LiveGroup]:
        """The consumer groups as last read, by id."""
        return self._groups.items()

    def rates(self) -> Mapping[str, float | None]:
        """Each followed stream's `messagesPerSecond` at the last reading (None: one reading yet)."""
        return self._rates.rates()

    def with_rates(self, summaries: list[StreamSummary]) -> list[StreamSummary]:
        """`summaries` (a list read just now) with each stream's rate as of the last reading."""
        rates = self.rates()
        return [summary.model_copy(update={"messagesPerSecond": rates.get(summary.name)}) for summary in summaries]

    def apply(self, connection: str, reading: StreamsReading) -> None:
        """A reading, that succeeded, of the cluster the environment's Kafka connection
        `connection` reaches: publishes what changed. The same reading given again (the agent's
        watch was not due this round) changes nothing."""
        with self._lock:
            if connection == self._connection and self._read_at is not None and reading.at <= self._read_at:
                return
            if connection != self._connection:
                for ledger in (self._streams, self._groups):
                    for scope in ledger.scopes() - {connection}:
                        ledger.forget_scope(scope)
                self._rates = WriteRates(self._rate_window_seconds)
            self._connection, self._read_at = connection, reading.at
            connection_lrn = resource_lrn("kafka-connection", self.environment, connection)
            self._apply_streams(connection, connection_lrn, reading.streams, reading.at)
            if reading.groups is not None:
                self._groups.apply_reading(connection, [
                    LiveGroup(**dict(group), lrn=kafka_consumer_group_lrn(connection_lrn, name))
                    for name, group in self._groups.bounded(connection, reading.groups).items()])

    def _apply_streams(self, connection: str, connection_lrn: str, summaries: list[StreamSummary], at: float) -> None:
        streams = self._streams.bounded(connection, summaries)
        rates = self._rates.update({name: stream.totalMessages for name, stream in streams.items()}, at)
        self._streams.apply_reading(connection, [
            LiveStream(**(dict(stream) | {"messagesPerSecond": rates[name],
                                          "lrn": kafka_topic_lrn(connection_lrn, name)}))
            for name, stream in streams.items()])
