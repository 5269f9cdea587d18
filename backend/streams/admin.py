"""The event API's admin access to an environment's Kafka: one long-lived `StreamsAdmin` per
environment and timeout (a part of the context's `KafkaClients`), and what a failure of Kafka
answers in the family's shape.

It holds the replicator's `Cluster` (confluent-kafka: metadata, offsets, commits), a kafka-python
admin client for what librdkafka does not expose (DescribeLogDirs: bytes on disk), and the
replicator's `GroupPositions` for committed offsets (kafka-python: librdkafka's
`list_consumer_group_offsets` can crash the process, see backend/replicator/offsets.py).
The kafka-python clients open at their first question and are used under one lock (kafka-python's
admin client is not made for concurrent callers), from whichever thread the routes run on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import ConsumerGroupDescription, TopicMetadata
from kafka import errors as kafka_python_errors

from backend.agent.kafka import admin_client, librdkafka_config, topic_sizes
from backend.environments.models import KafkaConnectionSpec
from backend.replicator.offsets import TP, Cluster, GroupPositions
from backend.streams.clients import KafkaClients
from backend.streams.errors import CLUSTER_UNAVAILABLE, TIMEOUT, EventApiError

if TYPE_CHECKING:
    from kafka import KafkaAdminClient

# librdkafka's errors that say the cluster answered too slowly; any other failure is one of not answering.
REACHABLE_PROBE_SECONDS = 1.0
SLOW = {KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT, KafkaError._TIMED_OUT_QUEUE}


class StreamsAdmin:
    def __init__(self, spec: KafkaConnectionSpec, timeout: float) -> None:
        self.timeout = timeout
        # A describe of one topic must never create it (a broker with auto.create.topics.enable
        # would, for a producer-type client like librdkafka's admin, by default).
        self.cluster = Cluster(librdkafka_config(spec) | {"allow.auto.create.topics": False, "log_level": 0},
                               timeout)
        self.admin = self.cluster.admin
        self._spec = spec
        self._lock = threading.Lock()
        self._log_dirs: KafkaAdminClient | None = None
        self._positions = GroupPositions(spec, timeout)

    def metadata(self, topic: str | None = None) -> dict[str, TopicMetadata]:
        """The cluster's topics (or only `topic`, which is then there with an error if it does not exist)."""
        with self.answering("Metadata"):
            return self.admin.list_topics(topic=topic, timeout=self.timeout).topics

    def group_ids(self) -> list[str]:
        with self.answering("ListGroups"):
            listing = self.admin.list_consumer_groups(request_timeout=self.timeout).result(self.timeout)
            if listing.errors:  # a broker that did not answer: the list would lack its groups
                raise KafkaException(listing.errors[0])
        return sorted(group.group_id for group in listing.valid)

    def describe_groups(self, groups: list[str]) -> dict[str, ConsumerGroupDescription | None]:
        """Each group's state and members; None for one Kafka could not describe (a Connect
        worker group whose assignment librdkafka does not parse, a group just deleted)."""
        if not groups:
            return {}
        with self.answering("DescribeGroups"):
            futures = self.admin.describe_consumer_groups(groups, request_timeout=self.timeout)
        described: dict[str, ConsumerGroupDescription | None] = {}
        for group, future in futures.items():
            try:
                described[group] = future.result(self.timeout)
            except KafkaException as exc:
                if exc.args[0].code() in SLOW or exc.args[0].code() == KafkaError._TRANSPORT:
                    raise self.failure(exc, "DescribeGroups") from None
                described[group] = None
        return described

    def topic_sizes(self, partitions: dict[str, list[int]]) -> dict[str, int]:
        """Bytes on disk of these topics (one copy of each partition)."""
        if not partitions:
            return {}
        with self._lock:
            try:
                if self._log_dirs is None:
                    self._log_dirs = admin_client(self._spec, int(self.timeout * 1000))
                return topic_sizes(self._log_dirs, partitions)
            except kafka_python_errors.KafkaError as exc:
                self._close_log_dirs()
                raise EventApiError(CLUSTER_UNAVAILABLE, f"Kafka did not answer DescribeLogDirs: {exc}") from None

    def committed(self, groups: list[str]) -> dict[str, dict[TP, int]]:
        """The committed offsets of each of the groups."""
        with self._lock, self.answering("OffsetFetch"):
            return self._positions.committed_by_group(groups)

    @contextmanager
    def answering(self, doing: str) -> Iterator[None]:
        """Kafka's own failures inside the block become the family's errors."""
        try:
            yield
        except KafkaException as exc:
            raise self.failure(exc, doing) from None
        except TimeoutError:  # a future's result(timeout) ran out before librdkafka's own timeout
            raise self.failure(KafkaException(KafkaError(KafkaError._TIMED_OUT, "no answer in time")), doing) from None

    def failure(self, exc: KafkaException, doing: str) -> EventApiError:
        """As `kafka_failure`, but a call that timed out is told apart from a cluster that is not
        there: librdkafka times out in both cases; a metadata request answers at once from a
        cluster that is merely slow on the call, and fails its transport on one that is down."""
        answer = kafka_failure(exc, doing)
        if answer.code != TIMEOUT:
            return answer
        try:
            self.admin.list_topics(timeout=REACHABLE_PROBE_SECONDS)
        except KafkaException as probe:
            return kafka_failure(probe, doing) if probe.args[0].code() not in SLOW else answer
        return answer

    def close(self) -> None:
        with self._lock:
            self._close_log_dirs()
            self._positions.close()

    def _close_log_dirs(self) -> None:
        if self._log_dirs is not None:
            client, self._log_dirs = self._log_dirs, None
            client.close()


def streams_admin(clients: KafkaClients, spec: KafkaConnectionSpec, timeout: float) -> StreamsAdmin:
    """The environment's admin for calls bounded by `timeout` seconds (one per timeout in use:
    the routes' and the live watch's)."""
    return clients.part(spec, f"admin:{timeout:g}", lambda s: StreamsAdmin(s, timeout))


def kafka_failure(exc: KafkaException, doing: str) -> EventApiError:
    """A Kafka error no caller answers itself, as the family's 502 (not answered) or 504 (too slow)."""
    error: KafkaError = exc.args[0]
    code = TIMEOUT if error.code() in SLOW else CLUSTER_UNAVAILABLE
    return EventApiError(code, f"Kafka did not answer {doing}: {error.str()}")
