"""What HQ asks Kafka about an app's positions, without running a worker: log-end and earliest
offsets, offsets for a time, the positions stored in the app's target-side group, and
editing those positions (only while no worker runs).

The stored positions are read with kafka-python (`GroupPositions`), not confluent-kafka's
`AdminClient.list_consumer_group_offsets`: when its OffsetFetch is answered NOT_COORDINATOR or
COORDINATOR_NOT_AVAILABLE (a group coordinator still starting or moving), librdkafka asks the
client's consumer group to look the coordinator up again, and an admin client has none:
`rd_kafka_cgrp_op(rk->rk_cgrp = NULL, …)` from `rd_kafka_handle_OffsetFetch` segfaults the
whole process (HQ and its console with it).
https://github.com/confluentinc/librdkafka/issues/5040,
https://github.com/confluentinc/confluent-kafka-python/issues/1982; seen with confluent-kafka
2.16.1 (librdkafka 2.16.0). Reproduced by starting a fresh one-broker cluster and, as soon as
its port opens, asking the offsets of new group ids in a loop: the process died with SIGSEGV in
5 runs of 6, the backtrace `rd_kafka_cgrp_op` < `rd_kafka_handle_OffsetFetch` <
`rd_kafka_ListConsumerGroupOffsetsResponse_parse`. A worker's `Consumer.committed` is not
affected (a consumer with a group.id has that group), nor is `alter_consumer_group_offsets`
(its OffsetCommit handler checks for the group before asking), so `Cluster.commit` stays."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from kafka import KafkaAdminClient
from kafka import errors as kafka_python_errors

from backend.agent.kafka import admin_config
from backend.environments.models import KafkaConnectionSpec
from backend.k2k.models import REGEX_PREFIX

TP = tuple[str, int]
T = TypeVar("T")
TIMEOUT = 10.0
LEADER_CHANGING = {KafkaError.UNKNOWN_LEADER_EPOCH, KafkaError.FENCED_LEADER_EPOCH,
                   KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                   KafkaError.OFFSET_NOT_AVAILABLE}
LEADER_CHANGE_RETRIES = 3
# A group's coordinator is moving or still loading (a cluster just started, a broker restarted):
# the commit is taken once it settles, which on a fresh broker takes a few seconds.
COORDINATOR_SETTLING = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
                        KafkaError.COORDINATOR_NOT_AVAILABLE}
COORDINATOR_RETRIES = 6


def _retrying(call: Callable[[], T], transient: set[int], retries: int) -> T:
    """`call()`, again after a growing pause while Kafka answers one of the `transient` errors."""
    attempt = 0
    while True:
        try:
            return call()
        except KafkaException as exc:
            attempt += 1
            if exc.args[0].code() not in transient or attempt > retries:
                raise
            time.sleep(0.5 * attempt)


class Cluster:
    """One Kafka cluster as HQ sees it, through one long-lived admin client."""

    def __init__(self, config: dict[str, Any], timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.admin = AdminClient({**config, "socket.connection.setup.timeout.ms": int(timeout * 1000)})

    def cluster_id(self) -> str:
        return self.admin.describe_cluster(request_timeout=self.timeout).result(self.timeout).cluster_id

    def partitions(self, topics: Iterable[str]) -> dict[str, int]:
        """Partition counts of those of `topics` that exist."""
        metadata = self.admin.list_topics(timeout=self.timeout).topics
        return {t: len(metadata[t].partitions) for t in topics if t in metadata and metadata[t].error is None}

    def matching(self, selectors: list[str]) -> list[str]:
        """The existing topics a spec's topic list selects (names, or regex: patterns)."""
        metadata = self.admin.list_topics(timeout=self.timeout).topics
        names = {t for t in selectors if not t.startswith(REGEX_PREFIX) and t in metadata}
        patterns = [re.compile(t.removeprefix(REGEX_PREFIX)) for t in selectors if t.startswith(REGEX_PREFIX)]
        names |= {t for t in metadata if not t.startswith("__") and any(p.fullmatch(t) for p in patterns)}
        return sorted(names)

    def _list_offsets(self, tps: list[TP], spec: OffsetSpec, missing_ok: bool = False) -> dict[TP, int]:
        """Asks again, after a growing pause, for the partitions whose answer says their leader is
        changing (new epoch, leader moving): after a broker restart the first answers carry these,
        and one would blank a whole metrics round. Only those partitions are asked again, so one
        of thousands costs a small request. `missing_ok` leaves out a partition whose topic is
        gone (deleted since its metadata was read, or still failing as it goes) instead of
        failing them all."""
        offsets: dict[TP, int] = {}
        pending = tps
        for attempt in range(LEADER_CHANGE_RETRIES + 1):
            failures = self._list_offsets_once(pending, spec, offsets)
            if missing_ok:
                failures = {tp: e for tp, e in failures.items() if e.code() != KafkaError.UNKNOWN_TOPIC_OR_PART}
            fatal = [e for e in failures.values() if e.code() not in LEADER_CHANGING]
            if fatal:
                raise KafkaException(fatal[0])
            if not failures:
                break
            if attempt == LEADER_CHANGE_RETRIES:
                if missing_ok:
                    break
                raise KafkaException(next(iter(failures.values())))
            time.sleep(0.5 * (attempt + 1))
            pending = list(failures)
        return offsets

    def _list_offsets_once(self, tps: list[TP], spec: OffsetSpec, offsets: dict[TP, int]) -> dict[TP, KafkaError]:
        """Adds the partitions' offsets to `offsets`; answers each failed partition's error."""
        if not tps:
            return {}
        futures = self.admin.list_offsets({TopicPartition(t, p): spec for t, p in tps},
                                          request_timeout=self.timeout)
        failures = {}
        for tp, future in futures.items():
            try:
                offsets[(tp.topic, tp.partition)] = future.result(self.timeout).offset
            except KafkaException as exc:
                failures[(tp.topic, tp.partition)] = exc.args[0]
        return failures

    def latest(self, tps: list[TP], missing_ok: bool = False) -> dict[TP, int]:
        return self._list_offsets(tps, OffsetSpec.latest(), missing_ok)

    def earliest(self, tps: list[TP], missing_ok: bool = False) -> dict[TP, int]:
        return self._list_offsets(tps, OffsetSpec.earliest(), missing_ok)

    def at(self, tps: list[TP], timestamp_ms: int) -> dict[TP, int]:
        """Per partition, the offset of the first record at or after the time (the log end if none)."""
        found = self._list_offsets(tps, OffsetSpec.for_timestamp(timestamp_ms))
        ends = self.latest([tp for tp, offset in found.items() if offset < 0])
        return {tp: offset if offset >= 0 else ends[tp] for tp, offset in found.items()}

    def commit(self, group: str, offsets: dict[TP, int]) -> None:
        _retrying(lambda: self._commit_once(group, offsets), COORDINATOR_SETTLING, COORDINATOR_RETRIES)

    def _commit_once(self, group: str, offsets: dict[TP, int]) -> None:
        partitions = [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
        request = [ConsumerGroupTopicPartitions(group, partitions)]
        answer = self.admin.alter_consumer_group_offsets(request, request_timeout=self.timeout)[group].result(
            self.timeout)
        failed = [tp for tp in answer.topic_partitions if tp.error is not None]
        if failed:
            raise KafkaException(failed[0].error)


# What one group answers that says nothing of the others (a group deleted, its coordinator moving).
ONE_GROUPS_ERRORS = (kafka_python_errors.GroupIdNotFoundError, kafka_python_errors.NotCoordinatorError,
                     kafka_python_errors.CoordinatorNotAvailableError,
                     kafka_python_errors.CoordinatorLoadInProgressError)


class GroupPositions:
    """The positions committed in one cluster's consumer groups, through one kafka-python admin
    client, opened at the first question (opening one waits for a broker). Its failures are
    confluent-kafka's KafkaException, as `Cluster`'s are, so that callers handle one kind."""

    def __init__(self, connection: KafkaConnectionSpec, timeout: float = TIMEOUT) -> None:
        self.settings = admin_config(connection, int(timeout * 1000), client_id="streamhq-hq")
        self._admin: KafkaAdminClient | None = None

    def committed(self, group: str) -> dict[TP, int]:
        """The group's committed offsets. Not `require_stable` (kafka-python sends OffsetFetch v8
        with RequireStable false): an exactly-once app always has a transaction open, and the
        broker would answer UNSTABLE_OFFSET_COMMIT until it ends; without it, the answer is the
        last committed offset, which is what lag is measured from. A group without commits has
        none to answer."""
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(**self.settings)
            answer = self._admin.list_group_offsets({group: None})[group]
        except (kafka_python_errors.GroupIdNotFoundError, kafka_python_errors.NotCoordinatorError):
            # A new group, or its coordinator moving. kafka-python keeps a group's coordinator
            # for good once found: the next question starts from a fresh lookup.
            self.close()
            return {}
        except kafka_python_errors.KafkaError as exc:
            self.close()
            raise _kafka_exception(exc) from None
        return _positions(answer)

    def committed_by_group(self, groups: list[str]) -> dict[str, dict[TP, int]]:
        """Every group's committed offsets, in one OffsetFetch per coordinator (KIP-709) however
        many groups there are. kafka-python fails the whole answer for one group's error (a group
        just deleted, a coordinator moving): then each group is asked on its own, as `committed`."""
        if not groups:
            return {}
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(**self.settings)
            answers = self._admin.list_group_offsets(dict.fromkeys(groups))
        except ONE_GROUPS_ERRORS:
            return {group: self.committed(group) for group in groups}
        except kafka_python_errors.KafkaError as exc:
            self.close()
            raise _kafka_exception(exc) from None
        return {group: _positions(answers.get(group, {})) for group in groups}

    def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            admin.close()


def _positions(answer: dict) -> dict[TP, int]:
    return {(tp.topic, tp.partition): position.offset for tp, position in answer.items() if position.offset >= 0}


def _kafka_exception(exc: kafka_python_errors.KafkaError) -> KafkaException:
    code = getattr(exc, "errno", None)
    return KafkaException(KafkaError(KafkaError._TRANSPORT if code is None else code, str(exc)))
