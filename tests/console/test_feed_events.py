"""Feed events are parsed once, into the model of their kind."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from backend.connect.models import ConnectorListItem
from backend.environments.models import Environment, KafkaConnection
from backend.k2k.models import K2KMetrics
from backend.streams.models import GroupSummary, StreamSummary
from console.client.events import (
    ENVIRONMENTS_FEED,
    FEED_PATHS,
    K2K_FEED,
    Kind,
    Resync,
    feed_path,
    kinds_of,
    parse_event,
)
from tests.console.k2k_fixtures import metrics

ENVIRONMENT = {"name": "prod-eu", "display_name": "Production EU", "lrn": "environments:environment/prod-eu",
               "id": "1", "created_at": "2026-11-02T09:30:00Z", "tier": "production"}


def test_an_environment_event_carries_the_environment():
    event = parse_event("environment.updated", json.dumps(ENVIRONMENT))
    assert (event.kind, event.verb, event.name, event.environment) == (Kind.environment, "updated", "prod-eu", None)
    assert isinstance(event.payload, Environment) and event.payload.tier.value == "production"


def test_a_resource_of_an_environment_says_which_environment():
    data = {"environment": "prod-eu", "name": "main", "override_broker_addresses": ["b:9092"]}
    event = parse_event("kafka-connection.created", json.dumps(data))
    assert (event.kind, event.name, event.environment) == (Kind.kafka_connection, "main", "prod-eu")
    assert isinstance(event.payload, KafkaConnection)


def test_a_deletion_carries_its_key_and_no_payload():
    event = parse_event("kafka-connection.deleted", json.dumps({"environment": "prod-eu", "name": "main"}))
    assert event.deleted and (event.name, event.environment, event.payload) == ("main", "prod-eu", None)
    assert parse_event("k2k.deleted", json.dumps({"name": "orders-dr"})).name == "orders-dr"


def test_k2k_metrics_are_a_kind_of_their_own():
    figures = metrics(["orders"], 10.0, 2)
    data = {"name": "orders-dr", "metrics": figures.model_dump(mode="json"), "metrics_summary": {"ignored": True}}
    event = parse_event("k2k.metrics", json.dumps(data))
    assert (event.kind, event.name) == (Kind.k2k_metrics, "orders-dr")
    assert isinstance(event.payload, K2KMetrics) and event.payload == figures


def test_a_kind_this_console_does_not_know_is_skipped_and_a_bad_payload_refused():
    assert parse_event("topic.created", json.dumps({"name": "t"})) is None
    with pytest.raises(ValidationError):
        parse_event("environment.updated", json.dumps({"name": "x"}))


def test_each_kind_has_one_feed_and_a_resync_names_the_kinds_of_its_feed():
    assert set(FEED_PATHS) == set(Kind)
    assert Resync(K2K_FEED).kinds == {Kind.k2k, Kind.k2k_metrics}
    assert Kind.environment in Resync(ENVIRONMENTS_FEED).kinds


CONNECTOR = {"name": "orders-sink", "lrn": "kafka-connect:connector/prod-eu/main/orders-sink", "cluster": "main",
             "state": "FAILED", "tasks": [{"id": 0, "state": "FAILED"}], "type": "sink", "topics": ["orders"]}


def test_a_connector_event_is_keyed_by_its_lrn_which_names_its_environment():
    event = parse_event("connector.updated", json.dumps(CONNECTOR))
    assert (event.kind, event.name, event.environment) == (Kind.connector, CONNECTOR["lrn"], "prod-eu")
    assert isinstance(event.payload, ConnectorListItem) and event.payload.tasks[0].state.value == "FAILED"
    deleted = parse_event("connector.deleted", json.dumps(CONNECTOR))  # a deletion carries the item too
    assert deleted.deleted and (deleted.name, deleted.environment, deleted.payload) == (
        CONNECTOR["lrn"], "prod-eu", None)


def test_the_connector_feed_is_one_per_environment():
    path = feed_path(Kind.connector, "prod-eu")
    assert path == "/api/v1/environments/prod-eu/proxy/api/kafka-connect/live/sse"
    assert kinds_of(path) == Resync(path).kinds == {Kind.connector}
    assert feed_path(Kind.k2k, "prod-eu") == K2K_FEED  # a feed of HQ's own is the same for all
    with pytest.raises(ValueError, match="per environment"):
        feed_path(Kind.connector)


STREAM = {"name": "orders", "lrn": "kafka:topic/prod-eu/main/orders", "partitions": 3, "replicationFactor": 1,
          "totalMessages": 120, "totalSize": 4096, "messagesPerSecond": 12.5, "consumerGroups": 1}
GROUP = {"groupId": "billing/eu", "lrn": "kafka:consumer-group/prod-eu/main/billing/eu", "state": "Stable",
         "members": 1, "streams": ["orders"], "totalLag": 7}


def test_a_stream_or_group_event_is_named_as_its_list_names_it_in_the_environment_its_lrn_names():
    event = parse_event("stream.updated", json.dumps(STREAM))
    assert (event.kind, event.name, event.environment) == (Kind.stream, "orders", "prod-eu")
    assert isinstance(event.payload, StreamSummary) and event.payload.messagesPerSecond == 12.5
    group = parse_event("consumer-group.created", json.dumps(GROUP))
    assert (group.kind, group.name, group.environment) == (Kind.consumer_group, "billing/eu", "prod-eu")
    assert isinstance(group.payload, GroupSummary) and group.payload.totalLag == 7
    deleted = parse_event("consumer-group.deleted", json.dumps(GROUP))  # a deletion carries the item too
    assert deleted.deleted and (deleted.name, deleted.environment, deleted.payload) == ("billing/eu", "prod-eu", None)


def test_streams_and_groups_share_one_feed_per_environment():
    path = feed_path(Kind.stream, "prod-eu")
    assert path == feed_path(Kind.consumer_group, "prod-eu")
    assert path == "/api/v1/environments/prod-eu/proxy/api/v1/streams/live/sse"
    assert kinds_of(path) == Resync(path).kinds == {Kind.stream, Kind.consumer_group}
