"""Target-side topics a worker needs before it copies: the copies of its source topics (same
partition count or more, since partition p goes to partition p) and the app's control topic."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

TIMEOUT = 30.0


class TopicProblem(Exception):
    """The target cannot take the copy and the app's settings forbid fixing it: the app fails
    with this message until a user acts (retrying would not help)."""


def partition_counts(admin: AdminClient, topics: Iterable[str]) -> dict[str, int]:
    """Partition counts of the topics that exist (others are absent from the answer)."""
    metadata = admin.list_topics(timeout=TIMEOUT)
    return {t: len(metadata.topics[t].partitions) for t in topics
            if t in metadata.topics and metadata.topics[t].error is None}


def explicit_configs(admin: AdminClient, topic: str) -> dict[str, str]:
    """The topic configs set on the topic itself (not broker defaults): what a copy should keep."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(TIMEOUT)
    return {name: entry.value for name, entry in entries.items()
            if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value and entry.value is not None
            and not entry.is_sensitive}


def _create(admin: AdminClient, topics: list[NewTopic]) -> None:
    if not topics:
        return
    for topic, future in admin.create_topics(topics, operation_timeout=TIMEOUT).items():
        try:
            future.result(TIMEOUT)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # another worker won the race
                raise TopicProblem(f"cannot create topic {topic!r} on the target: {exc.args[0].str()}") from None


def ensure_copies(source: AdminClient, target: AdminClient, topics: Iterable[str], create: bool) -> None:
    """Every source topic has a target topic with at least as many partitions."""
    wanted = sorted(set(topics))
    source_counts = partition_counts(source, wanted)
    target_counts = partition_counts(target, wanted)
    missing = [t for t in wanted if t not in target_counts and t in source_counts]
    if missing and not create:
        raise TopicProblem(
            f"target topic{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing on the target cluster: "
            "create them or set spec.replicator.autoCreateTopics"
        )
    _create(target, [NewTopic(t, source_counts[t], -1, config=explicit_configs(source, t)) for t in missing])
    for topic, count in target_counts.items():
        if count < source_counts.get(topic, 0):
            raise TopicProblem(
                f"target topic {topic!r} has {count} partitions but the source has {source_counts[topic]}: "
                "partition p is copied to partition p, so add partitions to the target topic"
            )


def ensure_control_topic(target: AdminClient, name: str, create: bool) -> None:
    if partition_counts(target, [name]):
        return
    if not create:
        raise TopicProblem(f"control topic {name!r} missing on the target cluster: create it (1 partition, "
                           "cleanup.policy=compact) or set spec.replicator.autoCreateControlTopics")
    _create(target, [NewTopic(name, 1, -1, config={"cleanup.policy": "compact"})])
