"""Whether an app's source and target are one cluster (backend/k2k/clusters.py), without Kafka:
addresses decide where they can, and a cluster that does not answer leaves it unknown."""

from __future__ import annotations

from backend.k2k.clusters import compare
from tests.api.test_cli import free_ports


def test_a_shared_broker_address_is_one_cluster_without_asking():
    verdict = compare({"bootstrap.servers": "a:9092,b:9092"}, {"bootstrap.servers": "b:9092"})

    assert verdict.same is True


def test_different_hosts_are_two_clusters_without_asking():
    assert compare({"bootstrap.servers": "a.invalid:9092"}, {"bootstrap.servers": "b.invalid:9092"}).same is False


def test_one_host_on_ports_that_do_not_answer_is_unknown_with_the_reason():
    source, target = (f"127.0.0.1:{port}" for port in free_ports(2))

    verdict = compare({"bootstrap.servers": source}, {"bootstrap.servers": target}, timeout=1.0)

    assert verdict.same is None
    assert "source cluster did not answer" in verdict.reason
