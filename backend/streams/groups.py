"""Consumer groups (an addition to seed 004): the list with state, members and lag, one group's
positions per partition, and setting the positions of a group nobody consumes in.

Lag is the log end offset minus the committed offset, per partition, on this cluster. A K2K
app's position group (`streamhq-k2k-{app}`, backend/replicator/config.py) lives on the app's
target cluster but holds the SOURCE's offsets under the target's topic names (a copy and its
position commit together): measured against the target's log it would be a lag of nothing, so
its lag and log ends are null here and `k2kApp` names the app whose lag (against its source)
the K2K views show.

The list reads every group in a fixed number of admin calls: ListGroups, DescribeGroups (per
coordinator), one OffsetFetch per coordinator, one Metadata and one ListOffsets."""

from __future__ import annotations

from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException
from confluent_kafka.admin import ConsumerGroupDescription

from backend.environments.models import KafkaConnectionSpec
from backend.replicator.config import consumer_group
from backend.replicator.offsets import TP
from backend.streams.admin import StreamsAdmin, streams_admin
from backend.streams.clients import KafkaClients
from backend.streams.errors import (
    CONFLICT,
    CONSUMER_GROUP_NOT_FOUND,
    INVALID_OFFSET,
    INVALID_REQUEST,
    EventApiError,
    stream_not_found,
)
from backend.streams.models import (
    CommitOffset,
    Committed,
    GroupDetail,
    GroupMember,
    GroupPartition,
    GroupSummary,
    StreamPartition,
)
from backend.streams.topics import DEFAULT_TIMEOUT, existing_topics

K2K_GROUP_PREFIX = consumer_group("")
# Kafka's names of the states (librdkafka's enum spells them its own way).
STATE_NAMES = {
    ConsumerGroupState.UNKNOWN: "Unknown",
    ConsumerGroupState.PREPARING_REBALANCING: "PreparingRebalance",
    ConsumerGroupState.COMPLETING_REBALANCING: "CompletingRebalance",
    ConsumerGroupState.STABLE: "Stable",
    ConsumerGroupState.DEAD: "Dead",
    ConsumerGroupState.EMPTY: "Empty",
}
# What a commit is answered when members joined the group after it was found empty.
GROUP_ACTIVE = {KafkaError.UNKNOWN_MEMBER_ID, KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION,
                KafkaError.NON_EMPTY_GROUP}


def k2k_app(group: str) -> str | None:
    """The K2K app whose position group this is, or None."""
    app = group.removeprefix(K2K_GROUP_PREFIX)
    return app if group.startswith(K2K_GROUP_PREFIX) and app else None


def state_name(description: ConsumerGroupDescription | None) -> str:
    return STATE_NAMES.get(description.state, "Unknown") if description is not None else "Unknown"


def _log_ends(admin: StreamsAdmin, committed: dict[str, dict[TP, int]]) -> dict[TP, int]:
    """The log end offsets of the partitions the groups (but K2K ones) committed on, where they
    still exist and have a leader."""
    wanted = {tp for group, positions in committed.items() if k2k_app(group) is None for tp in positions}
    if not wanted:
        return {}
    topics = existing_topics(admin)
    led = [tp for tp in sorted(wanted)
           if tp[0] in topics and tp[1] in topics[tp[0]].partitions and topics[tp[0]].partitions[tp[1]].leader >= 0]
    with admin.answering("ListOffsets"):
        return admin.cluster.latest(led)


def _partition(group: str, tp: TP, committed: int | None, ends: dict[TP, int]) -> GroupPartition:
    end = ends.get(tp) if k2k_app(group) is None else None
    lag = max(0, end - committed) if end is not None and committed is not None else None
    return GroupPartition(stream=tp[0], partition=tp[1], committedOffset=committed, logEndOffset=end, lag=lag)


def _summary(group: str, description: ConsumerGroupDescription | None, positions: dict[TP, int],
             ends: dict[TP, int]) -> GroupSummary:
    app = k2k_app(group)
    lags = [_partition(group, tp, offset, ends).lag for tp, offset in positions.items()]
    return GroupSummary(groupId=group, state=state_name(description),
                        members=len(description.members) if description is not None else 0,
                        streams=sorted({topic for topic, _ in positions}),
                        totalLag=None if app is not None else sum(lag for lag in lags if lag is not None),
                        k2kApp=app)


def read_group_summaries(clients: KafkaClients, spec: KafkaConnectionSpec, timeout: float) -> list[GroupSummary]:
    """Every consumer group of the environment's cluster, by id."""
    admin = streams_admin(clients, spec, timeout)
    groups = admin.group_ids()
    descriptions = admin.describe_groups(groups)
    committed = admin.committed(groups)
    ends = _log_ends(admin, committed)
    return [_summary(g, descriptions.get(g), committed.get(g, {}), ends) for g in groups]


def _found(admin: StreamsAdmin, group: str) -> tuple[ConsumerGroupDescription | None, dict[TP, int]]:
    """The group's description and committed offsets; a group Kafka knows nothing of is a 1003
    (Kafka describes any id, as Dead with no members, when it has neither members nor offsets)."""
    description = admin.describe_groups([group]).get(group)
    positions = admin.committed([group]).get(group, {})
    unknown = description is None or description.state in (ConsumerGroupState.DEAD, ConsumerGroupState.UNKNOWN)
    if unknown and not (description and description.members) and not positions:
        raise EventApiError(CONSUMER_GROUP_NOT_FOUND, f"The environment's Kafka has no consumer group {group!r}.",
                            field="consumerGroup")
    return description, positions


def describe_group(clients: KafkaClients, spec: KafkaConnectionSpec, group: str,
                   timeout: float = DEFAULT_TIMEOUT) -> GroupDetail:
    """Per partition the group commits on or is assigned: committed offset, log end, lag and the
    member holding it."""
    admin = streams_admin(clients, spec, timeout)
    description, positions = _found(admin, group)
    members = description.members if description is not None else []
    held_by = {(tp.topic, tp.partition): member for member in members for tp in member.assignment.topic_partitions}
    ends = _log_ends(admin, {group: {tp: 0 for tp in {*positions, *held_by}}})
    partitions = []
    for tp in sorted({*positions, *held_by}):
        row = _partition(group, tp, positions.get(tp), ends)
        member = held_by.get(tp)
        if member is not None:
            row = row.model_copy(update={"memberId": member.member_id, "clientId": member.client_id,
                                         "host": member.host})
        partitions.append(row)
    summary = _summary(group, description, positions, ends)
    return GroupDetail(**summary.model_dump(), partitions=partitions, memberDetails=[
        GroupMember(memberId=m.member_id, clientId=m.client_id, host=m.host,
                    assignments=[StreamPartition(stream=tp.topic, partition=tp.partition)
                                 for tp in m.assignment.topic_partitions])
        for m in members])


def commit_inactive(clients: KafkaClients, spec: KafkaConnectionSpec, group: str, offsets: list[CommitOffset],
                    timeout: float = DEFAULT_TIMEOUT) -> Committed:
    """Sets the committed positions of a group with no members (a new group id is created with
    them). A group with members owns its positions: it is refused (1008), as Kafka would."""
    admin = streams_admin(clients, spec, timeout)
    if not offsets:
        raise EventApiError.bad("offsets", "name at least one offset to commit")
    description = admin.describe_groups([group]).get(group)
    if description is not None and description.members:
        count = len(description.members)
        raise EventApiError(CONFLICT, f"The group has {count} member{'s' if count != 1 else ''}: stop them first.",
                            field="consumerGroup")
    wanted = _checked(admin, offsets)
    with admin.answering("OffsetCommit"):
        try:
            admin.cluster.commit(group, wanted)
        except KafkaException as exc:
            if exc.args[0].code() in GROUP_ACTIVE:
                raise EventApiError(CONFLICT, "The group has members now: stop them first.",
                                    field="consumerGroup") from None
            raise
    return Committed(committedOffsets=offsets)


def check_offsets(clients: KafkaClients, spec: KafkaConnectionSpec, offsets: list[CommitOffset],
                  timeout: float = DEFAULT_TIMEOUT) -> None:
    """Refuses (naming the entry) an offset of a stream or partition that does not exist, given
    twice, or beyond its log end: what the commit through a member checks before it commits."""
    _checked(streams_admin(clients, spec, timeout), offsets)


def _checked(admin: StreamsAdmin, offsets: list[CommitOffset]) -> dict[TP, int]:
    """The offsets by partition, each on a partition that exists and within its log."""
    topics = existing_topics(admin)
    wanted: dict[TP, int] = {}
    for index, entry in enumerate(offsets):
        where = f"offsets.{index}"
        meta = topics.get(entry.stream)
        if meta is None:
            raise stream_not_found(entry.stream, field=f"{where}.stream")
        if entry.partition not in meta.partitions:
            raise EventApiError(INVALID_REQUEST, f"{entry.stream!r} has no partition {entry.partition} "
                                f"(it has {len(meta.partitions)}).", field=f"{where}.partition")
        if (entry.stream, entry.partition) in wanted:
            raise EventApiError.bad(f"{where}.partition", f"{entry.stream}:{entry.partition} is given twice")
        wanted[(entry.stream, entry.partition)] = entry.offset
    with admin.answering("ListOffsets"):
        ends = admin.cluster.latest(sorted(wanted))
    for index, entry in enumerate(offsets):
        end = ends[(entry.stream, entry.partition)]
        if entry.offset > end:
            raise EventApiError(INVALID_OFFSET, f"Offset {entry.offset} is beyond the log end of "
                                f"{entry.stream}:{entry.partition} ({end}).", field=f"offsets.{index}.offset")
    return wanted
