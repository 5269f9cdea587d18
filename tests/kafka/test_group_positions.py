"""A group's committed positions as HQ reads them (backend.replicator.offsets.GroupPositions,
kafka-python), against the sandbox's real Kafka."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from backend.environments.models import KafkaConnectionSpec
from backend.replicator.offsets import Cluster, GroupPositions
from backend.sandbox.processes import free_port
from tests.kafka.conftest import create_topic, plaintext
from tests.kafka.replication import produce_sequences
from tests.waiting import until

pytestmark = pytest.mark.kafka


@pytest.fixture
def topic(target: dict) -> str:
    name = f"positions-{uuid.uuid4().hex[:8]}"
    create_topic(target["bootstrap"], name, partitions=2)
    produce_sequences(target, name, 20, partitions=2)
    return name


@pytest.fixture
def positions(target: dict):
    reader = GroupPositions(plaintext(target))
    yield reader
    reader.close()


def new_group() -> str:
    return f"positions-{uuid.uuid4().hex[:8]}"


def test_a_groups_commits_are_its_positions(target, topic, positions):
    group = new_group()
    Cluster({"bootstrap.servers": target["bootstrap"]}).commit(group, {(topic, 0): 3, (topic, 1): 17})

    assert positions.committed(group) == {(topic, 0): 3, (topic, 1): 17}


def test_a_group_without_commits_has_no_positions(positions):
    assert positions.committed(new_group()) == {}


def test_an_open_transaction_answers_the_last_committed_position(target, topic, positions):
    """An exactly-once app always has a transaction open: its positions are the ones committed
    before it, not an UNSTABLE_OFFSET_COMMIT wait for it to end."""
    group = new_group()
    Cluster({"bootstrap.servers": target["bootstrap"]}).commit(group, {(topic, 0): 5})
    producer = Producer({"bootstrap.servers": target["bootstrap"], "transactional.id": f"{group}-txn"})
    member = Consumer({"bootstrap.servers": target["bootstrap"], "group.id": group})
    try:
        producer.init_transactions(30)
        producer.begin_transaction()
        producer.send_offsets_to_transaction([TopicPartition(topic, 0, 12)], member.consumer_group_metadata(), 30)

        assert positions.committed(group) == {(topic, 0): 5}

        producer.commit_transaction(30)
        until(lambda: positions.committed(group) == {(topic, 0): 12}, 30, "the transaction's position once committed")
    finally:
        member.close()


def test_an_unreachable_cluster_is_a_kafka_exception():
    """What callers catch from `Cluster` (a metrics round's error, the offsets route's 502)."""
    unreachable = GroupPositions(KafkaConnectionSpec(override_broker_addresses=[f"127.0.0.1:{free_port()}"]),
                                 timeout=1)
    with pytest.raises(KafkaException):
        unreachable.committed(new_group())
