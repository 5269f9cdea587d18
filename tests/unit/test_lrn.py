"""Every LRN kind is built and parsed by backend/lrn.py; a string of another shape parses to None."""

from __future__ import annotations

from backend.lrn import (
    KafkaLRN,
    NamespaceLRN,
    ResourceLRN,
    environment_lrn,
    k2k_app_lrn,
    kafka_consumer_group_lrn,
    kafka_topic_lrn,
    parse_kafka_lrn,
    parse_namespace_lrn,
    parse_resource_lrn,
    resource_lrn,
)


def test_built_lrns_have_the_documented_shapes():
    assert environment_lrn("prod") == "environments:environment/prod"
    assert resource_lrn("kafka-connection", "prod", "main") == "environments:kafka-connection/prod/main"
    assert k2k_app_lrn("orders") == "apps:k2k/orders"
    assert kafka_topic_lrn("environments:kafka-connection/prod/main", "orders") == "kafka:topic/prod/main/orders"


def test_a_resource_lrn_parses_back_to_its_parts_and_only_of_the_kind_asked_for():
    lrn = resource_lrn("connect-cluster", "prod", "etl")
    assert parse_resource_lrn(lrn) == ResourceLRN("connect-cluster", "prod", "etl")
    assert parse_resource_lrn(lrn, "connect-cluster") == ResourceLRN("connect-cluster", "prod", "etl")
    assert parse_resource_lrn(lrn, "kafka-connection") is None


def test_strings_of_another_shape_are_not_lrns():
    for text in ("", "environments:kafka-connection/prod", "environments:kafka-connection/prod/main/extra",
                 "environments:kafka-connection/prod/ma in", "apps:k2k/orders", "kafka-connection/prod/main"):
        assert parse_resource_lrn(text) is None, text
    assert parse_namespace_lrn("kubernetes:namespace/prod/eks") is None


def test_a_namespace_lrn_parses_to_environment_cluster_and_namespace():
    parsed = parse_namespace_lrn("kubernetes:namespace/prod/eks-1/streaming")
    assert parsed == NamespaceLRN("prod", "eks-1", "streaming")


def test_a_topic_or_consumer_group_lrn_parses_to_environment_connection_and_name():
    connection = resource_lrn("kafka-connection", "prod", "main")
    assert parse_kafka_lrn(kafka_topic_lrn(connection, "orders")) == KafkaLRN("topic", "prod", "main", "orders")
    group = kafka_consumer_group_lrn(connection, "billing/eu")  # a group id may hold a slash
    assert group == "kafka:consumer-group/prod/main/billing/eu"
    assert parse_kafka_lrn(group, "consumer-group") == KafkaLRN("consumer-group", "prod", "main", "billing/eu")
    assert parse_kafka_lrn(group, "topic") is None
    assert parse_kafka_lrn("kafka:topic/prod/main") is None
