"""The pure parts of the event API's stream and group services: paging, which body field a
broker's refusal of a config names, a K2K app's position group, Kafka's failures as the family's."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from backend.environments.models import KafkaConnectionSpec
from backend.streams.admin import kafka_failure
from backend.streams.clients import KafkaClients
from backend.streams.errors import EventApiError
from backend.streams.groups import k2k_app
from backend.streams.models import StreamSummary
from backend.streams.topics import config_field, delete_stream, is_internal, page_of


def summary(name: str) -> StreamSummary:
    return StreamSummary(name=name, partitions=1, replicationFactor=1, totalMessages=0, totalSize=0,
                         internal=is_internal(name))


STREAMS = [summary(n) for n in ("__consumer_offsets", "a", "b", "c", "d")]


def test_a_page_starts_after_the_name_and_says_where_the_next_starts() -> None:
    first = page_of(STREAMS, after=None, limit=2, internal=False)
    assert [s.name for s in first.data] == ["a", "b"] and first.next == "b" and first.total == 4
    last = page_of(STREAMS, after=first.next, limit=2, internal=False)
    assert [s.name for s in last.data] == ["c", "d"] and last.next is None


def test_internal_topics_are_listed_only_when_asked() -> None:
    shown = page_of(STREAMS, after=None, limit=10, internal=True)
    assert shown.data[0].name == "__consumer_offsets" and shown.total == 5
    assert shown.data[0].internal


def test_the_tools_underscore_topics_are_internal_too() -> None:
    assert all(is_internal(name) for name in ("_connect-offsets", "_schemas", "__streamhq-k2k-a-status"))
    assert not is_internal("orders_v2") and not is_internal("demo.orders")


def test_after_a_name_that_is_not_a_stream_still_pages_by_name() -> None:
    assert [s.name for s in page_of(STREAMS, after="bb", limit=10, internal=False).data] == ["c", "d"]


def test_a_refused_config_names_its_body_field() -> None:
    configs = {"retention.ms": "x", "cleanup.policy": "bogus", "retention.bytes": "1"}
    assert config_field("Invalid value bogus for configuration cleanup.policy: String must be one of: compact, "
                        "delete", configs) == "config.cleanup.policy"
    assert config_field("Invalid value x for configuration retention.ms: Not a number of type LONG",
                        configs) == "config.retentionMs"
    assert config_field("Unknown topic config name: foo.bar", {"foo.bar": "1"}) == "config.foo.bar"
    assert config_field("Something else entirely", configs) == "config"


def test_a_k2k_position_group_names_its_app() -> None:
    assert k2k_app("streamhq-k2k-orders-copy") == "orders-copy"
    assert k2k_app("streamhq-k2k-") is None
    assert k2k_app("orders-consumer") is None


def test_kafka_failures_are_502_unless_slow() -> None:
    down = kafka_failure(KafkaException(KafkaError(KafkaError._TRANSPORT, "refused")), "Metadata")
    slow = kafka_failure(KafkaException(KafkaError(KafkaError._TIMED_OUT, "slow")), "Metadata")
    assert (down.code, down.status) == (1009, 502)
    assert (slow.code, slow.status) == (1006, 504)


def test_an_internal_topic_is_refused_before_kafka_is_asked() -> None:
    clients = KafkaClients()
    nowhere = KafkaConnectionSpec(override_broker_addresses=["127.0.0.1:1"])  # a refusal here is not Kafka's
    try:
        with pytest.raises(EventApiError) as refused:
            delete_stream(clients, nowhere, "__consumer_offsets")
    finally:
        clients.close()
    assert (refused.value.code, refused.value.status, refused.value.field) == (1000, 400, "streamName")
